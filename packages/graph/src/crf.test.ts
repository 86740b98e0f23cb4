import { LinearChainCrf } from "@xlt/crf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import { crfNll } from "./crf.js";
import { evaluate } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { reduceSum } from "./structural.js";
import { rng, values } from "./test-utils/check-grads.js";

/**
 * crfNll's summed loss and gradients against @xlt/crf on the rows of nonzero length; rows of length 0
 * (tags padded with 0, which would pick up start[0]) must add exactly 0 loss and 0 gradient.
 */
async function matchesReference(
  B: number,
  T: number,
  K: number,
  seed: number,
  lengthOf: (row: number) => number,
) {
  const random = rng(seed);
  const normal = (n: number) => Float64Array.from({ length: n }, () => random() * 4 - 2);
  const emissions = normal(B * T * K);
  const transitions = normal(K * K);
  const start = normal(K);
  const end = normal(K);
  const lengths = Array.from({ length: B }, (_, row) => lengthOf(row));
  const tags = Array.from({ length: B * T }, (_, i) =>
    i % T < (lengths[Math.floor(i / T)] ?? 0) ? Math.floor(random() * K) : -1,
  );
  const rows = lengths.flatMap((length, row) => (length > 0 ? [row] : []));
  const pick = <A extends Float64Array | Int32Array>(data: A, make: (n: number) => A) => {
    const out = make(rows.length * T * (data.length / (B * T)));
    const width = data.length / B;
    for (const [index, row] of rows.entries())
      out.set(data.subarray(row * width, (row + 1) * width), index * width);
    return out;
  };
  const crf = new LinearChainCrf({
    numTags: K,
    transitions: { data: transitions, dims: [K, K] },
    start,
    end,
  });
  const expected =
    rows.length === 0
      ? {
          loss: 0,
          grad: {
            emissions: { data: new Float64Array(0) },
            transitions: { data: new Float64Array(K * K) },
            start: { data: new Float64Array(K) },
            end: { data: new Float64Array(K) },
          },
        }
      : crf.nll(
          { data: pick(emissions, (n) => new Float64Array(n)), dims: [rows.length, T, K] },
          { data: pick(Int32Array.from(tags), (n) => new Int32Array(n)), dims: [rows.length, T] },
          { lengths: rows.map((row) => lengths[row] ?? 0), reduction: "sum" },
        );
  // The emission gradient in full: the reference's rows where present, zeros on empty rows.
  const emissionGrad = new Float64Array(B * T * K);
  for (const [index, row] of rows.entries())
    emissionGrad.set(expected.grad.emissions.data.subarray(index * T * K, (index + 1) * T * K), row * T * K);

  const graph = new Graph();
  const e = graph.input("emissions", "float64", ["batch", "steps", K]);
  const y = graph.input("tags", "int64", ["batch", "steps"]);
  const m = graph.input("mask", "bool", ["batch", "steps"]);
  const t = graph.input("transitions", "float64", [K, K]);
  const s = graph.input("start", "float64", [K]);
  const z = graph.input("end", "float64", [K]);
  const loss = reduceSum(crfNll(e, y, m, { transitions: t, start: s, end: z }));
  const [de, dt, ds, dz] = grad(loss, [e, t, s, z]) as [Tensor, Tensor, Tensor, Tensor];
  const result = await evaluate(
    { loss, de, dt, ds, dz },
    {
      emissions: { data: emissions, dims: [B, T, K] },
      tags: { data: BigInt64Array.from(tags, (tag) => BigInt(Math.max(tag, 0))), dims: [B, T] },
      mask: {
        data: Uint8Array.from(tags, (_, i) => (i % T < (lengths[Math.floor(i / T)] ?? 0) ? 1 : 0)),
        dims: [B, T],
      },
      transitions: { data: transitions, dims: [K, K] },
      start: { data: start, dims: [K] },
      end: { data: end, dims: [K] },
    },
  );
  const close = (actual: number[], wanted: ArrayLike<number>) => {
    expect(actual).toHaveLength(wanted.length);
    for (const [index, value] of actual.entries())
      expect(Math.abs(value - (wanted[index] ?? Number.NaN))).toBeLessThan(1e-9);
  };
  close(values(result.loss), [expected.loss]);
  close(values(result.de), emissionGrad);
  close(values(result.dt), expected.grad.transitions.data);
  close(values(result.ds), expected.grad.start.data);
  close(values(result.dz), expected.grad.end.data);
}

const shapes = fc.tuple(
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 1, max: 1_000_000 }),
);

describe("crfNll (forward algorithm in a Scan) matches @xlt/crf", () => {
  it("loss and gradients for emissions, transitions, start and end on random inputs and lengths", async () => {
    await fc.assert(
      fc.asyncProperty(shapes, async ([B, T, K, seed]) => {
        const random = rng(seed + 1);
        await matchesReference(B, T, K, seed, () => 1 + Math.floor(random() * T));
      }),
      { numRuns: 15 },
    );
  });

  it("zero-length rows (mask all false) add exactly 0 loss and 0 gradient", async () => {
    await fc.assert(
      fc.asyncProperty(shapes, async ([B, T, K, seed]) => {
        const random = rng(seed + 1);
        await matchesReference(B, T, K, seed, (row) => (row === 0 ? 0 : Math.floor(random() * (T + 1))));
      }),
      { numRuns: 15 },
    );
  });

  it("validates its inputs", () => {
    const graph = new Graph();
    const e = graph.input("e", "float64", [1, 2, 3]);
    const crf = {
      transitions: graph.input("t", "float64", [3, 3]),
      start: graph.input("s", "float64", [3]),
      end: graph.input("z", "float64", [3]),
    };
    const tags = graph.input("y", "int64", [1, 2]);
    const mask = graph.input("m", "bool", [1, 2]);
    expect(() => crfNll(graph.input("e2", "float64", [1, 2]), tags, mask, crf)).toThrow(
      "crfNll: emissions: expected [batch, steps, K] with a fixed K, got rank 2",
    );
    expect(() => crfNll(e, mask, mask, crf)).toThrow("crfNll: tags: expected an int64 tensor, got bool");
    expect(() => crfNll(e, tags, tags, crf)).toThrow("crfNll: mask: expected a bool tensor, got int64");
  });
});
