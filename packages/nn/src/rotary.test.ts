import { evaluate, Graph, grad, mul, reduceSum } from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { applyRotary, cos, rotaryFrequencies, rotaryTables, rotateHalf, sin } from "./rotary.js";

const numbers = (value: { data: ArrayLike<number | bigint> } | undefined) =>
  Array.from({ length: value?.data.length ?? 0 }, (_, i) => Number(value?.data[i]));

describe("rotary position embeddings", () => {
  it("inverse frequencies are θ^(-2i/d)", () => {
    expect(Array.from(rotaryFrequencies(4, 10000))).toEqual([1, 10000 ** -0.5]);
    expect(() => rotaryFrequencies(3, 10000)).toThrow(
      "rotaryFrequencies: headDim: expected an even integer >= 2, got 3",
    );
    expect(() => rotaryFrequencies(4, 0)).toThrow(
      "rotaryFrequencies: theta: expected a finite number > 0, got 0",
    );
  });

  it("rotates each pair (i, i + d/2) by the angle p·θ^(-2i/d) (brute force)", async () => {
    const [batch, heads, steps, d, theta] = [2, 3, 4, 6, 500];
    const graph = new Graph();
    const x = graph.input("x", "float64", ["batch", heads, "steps", d]);
    const positions = graph.input("positions", "int64", ["batch", "steps"]);
    const y = applyRotary(x, rotaryTables(positions, d, theta, "float64"));
    const data = Float64Array.from({ length: batch * heads * steps * d }, (_, i) => Math.sin(i * 1.7) * 2);
    const pos = [0, 1, 2, 3, 0, 0, 5, 9];
    const result = await evaluate(
      { y },
      {
        x: { data, dims: [batch, heads, steps, d] },
        positions: { data: BigInt64Array.from(pos, BigInt), dims: [batch, steps] },
      },
    );
    const got = numbers(result.y);
    let worst = 0;
    for (let b = 0; b < batch; b += 1)
      for (let h = 0; h < heads; h += 1)
        for (let t = 0; t < steps; t += 1) {
          const base = ((b * heads + h) * steps + t) * d;
          const p = pos[b * steps + t] ?? 0;
          for (let i = 0; i < d / 2; i += 1) {
            const angle = p * theta ** ((-2 * i) / d);
            const [x1, x2] = [data[base + i] ?? 0, data[base + i + d / 2] ?? 0];
            worst = Math.max(
              worst,
              Math.abs((got[base + i] ?? 0) - (x1 * Math.cos(angle) - x2 * Math.sin(angle))),
              Math.abs((got[base + i + d / 2] ?? 0) - (x2 * Math.cos(angle) + x1 * Math.sin(angle))),
            );
          }
        }
    expect(worst).toBeLessThan(1e-12);
  });

  it("sin and cos have the derivatives cos and -sin", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [3]);
    const [ds] = grad(reduceSum(sin(x)), [x]);
    const [dc] = grad(reduceSum(mul(cos(x), 2)), [x]);
    if (!ds || !dc) throw new Error("no gradient");
    const data = Float64Array.of(-1, 0.3, 2);
    const result = await evaluate({ ds, dc }, { x: { data, dims: [3] } });
    expect(numbers(result.ds)).toEqual(Array.from(data, Math.cos).map((v) => expect.closeTo(v, 14)));
    expect(numbers(result.dc)).toEqual(Array.from(data, (v) => expect.closeTo(-2 * Math.sin(v), 14)));
  });

  it("rejects odd or symbolic last axes and misshapen positions", () => {
    const graph = new Graph();
    expect(() => rotateHalf(graph.input("odd", "float64", [2, 3]))).toThrow(
      "rotateHalf: x: expected a last axis of even, fixed size, got 3",
    );
    expect(() => rotaryTables(graph.input("p", "float64", [2, 3]), 4, 10, "float64")).toThrow(
      "rotaryTables: positions: expected an int64 tensor [batch, steps], got float64 [2,3]",
    );
    expect(() => sin(graph.input("i", "int64", [2]))).toThrow(
      "sin: x: expected a float32 or float64 tensor, got int64",
    );
  });
});
