import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import {
  count,
  crossEntropy,
  dropout,
  gelu,
  geluTanh,
  layerNorm,
  logSoftmax,
  logSumExp,
  mean,
  oneHot,
  relu,
  softmax,
} from "./composites.js";
import { add, mul } from "./elementwise.js";
import { evaluate } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { reduceSum } from "./structural.js";
import { checkGrads, randomInput, rng, values } from "./test-utils/check-grads.js";

const seeds = fc.integer({ min: 1, max: 1_000_000 });
const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });

describe("composites: gradients through their primitives match central differences", () => {
  const cases: [string, (x: Tensor) => Tensor][] = [
    ["geluTanh", geluTanh],
    ["softmax", (x) => softmax(x, -1)],
    ["logSoftmax", (x) => logSoftmax(x, 0)],
    ["logSumExp", (x) => logSumExp(x, [-1])],
    ["mean", (x) => mean(x, [0])],
    ["layerNorm", (x) => layerNorm(x, null, null)],
  ];
  for (const [name, f] of cases) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(shapes, seeds, async (shape, seed) => {
          const error = await checkGrads(f, [randomInput(shape, rng(seed))], seed);
          expect(error).toBeLessThan(1e-6);
        }),
        { numRuns: 6 },
      );
    });
  }

  it("layerNorm with gain and bias broadcast over rows", async () => {
    await fc.assert(
      fc.asyncProperty(shapes, seeds, async (shape, seed) => {
        const random = rng(seed);
        const last = [shape[shape.length - 1] ?? 1];
        // Columns 5 apart keep each row's spread at least 1: a near-constant row (its variance near
        // 0) makes the normalisation so curved that central differences, not the gradient, err.
        const x = randomInput(shape, random);
        for (let i = 0; i < x.data.length; i += 1) x.data[i] = (x.data[i] ?? 0) + 5 * (i % (last[0] ?? 1));
        const error = await checkGrads(
          (x, g, b) => layerNorm(x, g, b),
          [x, randomInput(last, random), randomInput(last, random)],
          seed,
        );
        expect(error).toBeLessThan(1e-6);
      }),
      { numRuns: 6 },
    );
  });

  it("crossEntropy with ignored labels", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 4 }),
        seeds,
        async (rows, classes, seed) => {
          const random = rng(seed);
          const labels = BigInt64Array.from({ length: rows }, () =>
            random() < 0.3 ? -100n : BigInt(Math.floor(random() * classes)),
          );
          const f = (x: Tensor) => crossEntropy(x, x.graph.constant(labels, [rows]));
          const error = await checkGrads(f, [randomInput([rows, classes], random)], seed);
          expect(error).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe("composite values against direct computation", () => {
  it("crossEntropy is the mean negative log-probability over kept positions", async () => {
    const graph = new Graph();
    const logits = graph.input("logits", "float64", ["n", 3]);
    const labels = graph.input("labels", "int64", ["n"]);
    const data = Float64Array.of(1, 2, 3, 0, 0, 0, -1, 4, 2);
    const result = await evaluate(
      { loss: crossEntropy(logits, labels, -1), empty: crossEntropy(logits, add(mul(labels, 0), -1), -1) },
      { logits: { data, dims: [3, 3] }, labels: { data: BigInt64Array.of(2n, -1n, 0n), dims: [3] } },
    );
    const lse = (row: number[]) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const expected = (lse([1, 2, 3]) - 3 + (lse([-1, 4, 2]) + 1)) / 2;
    expect(values(result.loss)[0]).toBeCloseTo(expected, 12);
    expect(values(result.empty)[0]).toBe(0);
  });

  it("softmax rows sum to one, relu clips, gelu matches x·Φ(x), count reads symbolic dims", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", ["n", 2]);
    const result = await evaluate(
      {
        s: reduceSum(softmax(x), [-1]),
        r: relu(x),
        g: gelu(x),
        c: count(x, [0, 1]),
        h: oneHot(graph.constant(BigInt64Array.of(1n, 0n), [2]), 3),
      },
      { x: { data: Float64Array.of(-1, 0.5, 2, -3, 1000, -1000), dims: [3, 2] } },
    );
    for (const value of values(result.s)) expect(value).toBeCloseTo(1, 12);
    expect(values(result.r)).toEqual([0, 0.5, 2, 0, 1000, 0]);
    // Φ(-1) = 0.15865525393145707
    expect(values(result.g)[0]).toBeCloseTo(-0.15865525393145707, 6);
    expect(values(result.c)).toEqual([6]);
    expect(values(result.h)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it("dropout keeps about 1 - rate of the values, scaled, and the gradient follows the mask", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", [10000]);
    const y = dropout(x, 0.25, 7);
    const [g] = grad(reduceSum(y), [x]);
    const result = await evaluate(
      { y, g: g as Tensor },
      { x: { data: new Float32Array(10000).fill(1), dims: [10000] } },
    );
    const ys = values(result.y);
    const kept = ys.filter((v) => v !== 0);
    expect(kept.length / ys.length).toBeGreaterThan(0.72);
    expect(kept.length / ys.length).toBeLessThan(0.78);
    for (const v of kept) expect(v).toBeCloseTo(1 / 0.75, 6);
    expect(values(result.g)).toEqual(ys);
    expect(dropout(x, 0.5, 1, false)).toBe(x);
    expect(() => dropout(x, 1, 1)).toThrow("dropout: rate: expected a number in [0, 1), got 1");
  });

  it("errors", () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [2, "c"]);
    expect(() => crossEntropy(x, graph.input("y", "int64", [2]))).toThrow(
      "crossEntropy: logits: expected a fixed number of classes, got c",
    );
    expect(() => oneHot(x, 3)).toThrow("oneHot: indices: expected an int64 tensor, got float64");
  });
});
