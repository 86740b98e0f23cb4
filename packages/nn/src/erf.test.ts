import { readFileSync } from "node:fs";
import { evaluate, Graph, gelu, grad, reduceSum } from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { preciseErf, preciseGelu } from "./erf.js";

// libm's erf (Python's math.erf), from fixtures/make_encoders.py.
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/encoders/erf.json", import.meta.url), "utf8"),
) as {
  x: number[];
  erf: number[];
};

describe("preciseErf", () => {
  it("matches libm's erf to 1e-15 in float64, and its derivative 2/√π·e^{-x²} to 1e-13", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", ["n"]);
    const y = preciseErf(x);
    const [dx] = grad(reduceSum(y), [x]);
    const result = await evaluate(
      { y, dx: dx ?? y },
      { x: { data: Float64Array.from(reference.x), dims: [reference.x.length] } },
    );
    for (const [index, want] of reference.erf.entries()) {
      const at = reference.x[index] as number;
      expect(Math.abs(Number(result.y?.data[index]) - want), `erf(${at})`).toBeLessThan(1e-15);
      const slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-at * at);
      expect(Math.abs(Number(result.dx?.data[index]) - slope), `erf'(${at})`).toBeLessThan(1e-13);
    }
  });

  it("leaves float32 to ONNX's Erf, and preciseGelu equals gelu there", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", [3]);
    const result = await evaluate(
      { precise: preciseGelu(x), plain: gelu(x) },
      { x: { data: Float32Array.of(-1.5, 0.25, 3), dims: [3] } },
    );
    expect(Array.from(result.precise?.data ?? [], Number)).toEqual(
      Array.from(result.plain?.data ?? [], Number),
    );
  });
});
