import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import { mul } from "./elementwise.js";
import { evaluate } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { concat, gather, scatterAdd, slice } from "./indexing.js";
import { toOnnx } from "./onnx.js";
import {
  broadcastTo,
  matmul,
  reduceMax,
  reduceSum,
  reshape,
  squeeze,
  transpose,
  unsqueeze,
} from "./structural.js";
import { checkGrads, randomInput, rng, values } from "./test-utils/check-grads.js";

const TOLERANCE = 1e-6;
const seeds = fc.integer({ min: 1, max: 1_000_000 });
const dim = fc.integer({ min: 1, max: 4 });
const shape = (min: number, max: number) => fc.array(dim, { minLength: min, maxLength: max });

async function expectGrads(
  f: (...xs: Tensor[]) => Tensor,
  shapes: readonly (readonly number[])[],
  seed: number,
) {
  const random = rng(seed);
  const error = await checkGrads(
    f,
    shapes.map((s) => randomInput(s, random)),
    seed,
  );
  expect(error).toBeLessThan(TOLERANCE);
}

describe("structural primitives: gradients match central differences", () => {
  it("matmul with batch broadcasting", async () => {
    const cases = fc.tuple(dim, dim, dim, shape(0, 2), fc.boolean(), seeds);
    await fc.assert(
      fc.asyncProperty(cases, async ([m, k, n, batch, batchOnLeft, seed]) => {
        const a = batchOnLeft ? [...batch, m, k] : [m, k];
        const b = batchOnLeft ? [k, n] : [...batch, k, n];
        await expectGrads(matmul, [a, b], seed);
      }),
      { numRuns: 12 },
    );
  });

  it("matmul of a batch with symbolic dims by a matrix (the weight gradient folds the batch in)", async () => {
    const cases = fc.tuple(dim, dim, dim, dim, dim, seeds);
    await fc.assert(
      fc.asyncProperty(cases, async ([batch, steps, k, n, m, seed]) => {
        const random = rng(seed);
        const error = await checkGrads(
          (a, b) => reduceSum(matmul(a, b), [0, 1]), // shape: [n]
          [
            { ...randomInput([batch, steps, k], random), declared: ["batch", "steps", k] },
            randomInput([k, n + m], random),
          ],
          seed,
        );
        expect(error).toBeLessThan(TOLERANCE);
      }),
      { numRuns: 8 },
    );
  });

  it("reduceSum and reduceMax over random axes, with and without keepdims", async () => {
    const cases = shape(1, 3).chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.subarray(
          s.map((_, index) => index),
          { minLength: 1 },
        ),
        fc.boolean(),
        seeds,
      ),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([s, axes, keepdims, seed]) => {
        await expectGrads((x) => reduceSum(x, axes, keepdims), [s], seed);
        await expectGrads((x) => reduceMax(x, axes, keepdims), [s], seed);
      }),
      { numRuns: 10 },
    );
  });

  it("reshape, transpose, unsqueeze, squeeze, broadcastTo", async () => {
    await fc.assert(
      fc.asyncProperty(shape(1, 3), seeds, async (s, seed) => {
        const perm = s.map((_, index) => index).reverse();
        await expectGrads((x) => reshape(x, [-1]), [s], seed);
        await expectGrads((x) => transpose(x, perm), [s], seed);
        await expectGrads((x) => squeeze(unsqueeze(x, [0, -1]), [0]), [s], seed);
        await expectGrads((x, y) => mul(broadcastTo(x, y), y), [s.map(() => 1), [2, ...s]], seed);
      }),
      { numRuns: 8 },
    );
  });

  it("slice (through pad), concat (through split), gather and scatterAdd", async () => {
    await fc.assert(
      fc.asyncProperty(shape(1, 3), seeds, async (s, seed) => {
        const last = s.length - 1;
        await expectGrads((x) => slice(x, last, 0, Math.max(1, (s[last] ?? 1) - 1)), [s], seed);
        await expectGrads((x) => slice(x, 0, -1), [s], seed);
        await expectGrads((x, y) => concat([x, y, x], last), [s, s], seed);
        const rows = s[0] ?? 1;
        const indices = (x: Tensor) => x.graph.constant(BigInt64Array.of(0n, BigInt(rows - 1), 0n), [3]);
        await expectGrads((x) => gather(x, indices(x)), [s], seed);
        await expectGrads((x, u) => scatterAdd(x, indices(x), u), [s, [3, ...s.slice(1)]], seed);
        // A permutation of the rows, promised unique: the gradient goes through ScatterND.
        const reversed = (x: Tensor) =>
          x.graph.constant(
            BigInt64Array.from({ length: rows }, (_, i) => BigInt(rows - 1 - i)),
            [rows],
          );
        await expectGrads((x) => gather(x, reversed(x), { unique: true }), [s], seed);
      }),
      { numRuns: 8 },
    );
  });
});

describe("structural values", () => {
  it("scatterAdd accumulates every repeated index on several threads (ORT's ScatterND add loses some)", async () => {
    const graph = new Graph();
    const table = graph.input("table", "float32", [128, 256]);
    const indices = graph.input("indices", "int64", [16, 64]);
    const updates = graph.input("updates", "float32", [16, 64, 256]);
    const y = scatterAdd(table, indices, updates);
    const feeds = {
      table: { data: new Float32Array(128 * 256), dims: [128, 256] },
      indices: { data: BigInt64Array.from({ length: 1024 }, (_, i) => BigInt(i % 64)), dims: [16, 64] },
      updates: { data: new Float32Array(1024 * 256).fill(1), dims: [16, 64, 256] },
    };
    for (let run = 0; run < 5; run += 1) {
      // evaluate's session takes ORT's default thread count (every core).
      const out = values((await evaluate({ y }, feeds)).y);
      expect(out.slice(0, 64 * 256).every((v) => v === 16)).toBe(true);
      expect(out.slice(64 * 256).every((v) => v === 0)).toBe(true);
    }
  });

  it("scatterAdd with unique indices (one ScatterND) adds each update to its row", async () => {
    const graph = new Graph();
    const table = graph.input("table", "float64", [6, 2]);
    const indices = graph.input("indices", "int64", [3]);
    const updates = graph.input("updates", "float64", [3, 2]);
    const one = graph.input("one", "int64", [1]);
    const y = scatterAdd(table, indices, updates, { unique: true });
    // A single index needs no promise: at most one update per row.
    const z = scatterAdd(table, one, slice(updates, 0, 0, 1));
    const out = await evaluate(
      { y, z },
      {
        table: { data: Float64Array.from({ length: 12 }, (_, i) => i), dims: [6, 2] },
        indices: { data: BigInt64Array.of(4n, 0n, 2n), dims: [3] },
        updates: { data: Float64Array.of(10, 20, 30, 40, 50, 60), dims: [3, 2] },
        one: { data: BigInt64Array.of(5n), dims: [1] },
      },
    );
    expect(values(out.y)).toEqual([30, 41, 2, 3, 54, 65, 6, 7, 18, 29, 10, 11]);
    expect(values(out.z)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 31]);
    const nodes = (t: typeof y) => toOnnx({ t }).bytes;
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
    expect(text(nodes(y))).toContain("ScatterND");
    expect(text(nodes(z))).toContain("ScatterND");
    expect(text(nodes(scatterAdd(table, indices, updates)))).toContain("ScatterElements");
  });

  it("slice and concat on symbolic shapes at run time", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", ["batch", 3]);
    const head = slice(x, 1, 1);
    const joined = concat([x, head], 1);
    const [g] = grad(reduceSum(mul(joined, joined)), [x]);
    const data = Float64Array.of(1, 2, 3, 4, 5, 6);
    const result = await evaluate({ joined, g: g as Tensor }, { x: { data, dims: [2, 3] } });
    expect(values(result.joined)).toEqual([1, 2, 3, 2, 3, 4, 5, 6, 5, 6]);
    expect(result.joined?.dims).toEqual([2, 5]);
    // d/dx of sum(x²) + sum(x[:,1:]²) = 2x + 2x on the sliced columns.
    expect(values(result.g)).toEqual([2, 8, 12, 8, 20, 24]);
  });

  it("reshape infers sizes around copied symbolic dims", () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", ["batch", 5, 32]);
    expect(reshape(x, [0, -1]).shape).toEqual(["batch", 160]);
    expect(reshape(x, [-1, 32]).shape).toEqual(["batch*5", 32]);
    expect(reshape(x, [-1, 3, 0]).shape).toEqual(["batch*5*32/-1*3*0", 3, 32]);
  });

  it("gather accumulates repeated rows in the gradient", async () => {
    const graph = new Graph();
    const table = graph.input("table", "float64", [3, 2]);
    const ids = graph.input("ids", "int64", ["n"]);
    const [g] = grad(reduceSum(gather(table, ids)), [table]);
    const result = await evaluate(
      { g: g as Tensor },
      {
        table: { data: new Float64Array(6), dims: [3, 2] },
        ids: { data: BigInt64Array.of(2n, 0n, 2n), dims: [3] },
      },
    );
    expect(values(result.g)).toEqual([1, 1, 0, 0, 2, 2]);
  });

  it("errors name the op and the argument", () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [2, 3]);
    expect(() => matmul(x, x)).toThrow("matmul: inner dims: expected equal, got [2,3] and [2,3]");
    expect(() => reshape(x, [4, -1])).toThrow(
      "reshape: target: expected a shape with 6 elements, got [4,-1]",
    );
    expect(() => reshape(x, [4, 2])).toThrow("reshape: target: expected 6 elements, got [4,2] (8)");
    expect(() => slice(graph.input("s", "float64", ["n"]), 0, -1)).toThrow(
      "slice: start: expected a start >= 0 on the symbolic axis n, got -1",
    );
    expect(() => transpose(x, [0, 0])).toThrow("transpose: perm: expected a permutation of 0..1, got [0,0]");
    expect(() => squeeze(x, [0])).toThrow("squeeze: axes (0): expected an axis of size 1, got size 2");
    expect(() => reduceSum(x, [2])).toThrow("reduceSum: axis: expected an integer in [-2, 1], got 2");
    expect(() => gather(x, x)).toThrow("gather: indices: expected an int64 tensor, got float64");
    expect(() => concat([], 0)).toThrow("concat: tensors: expected at least one tensor, got none");
  });
});
