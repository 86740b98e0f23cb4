import { evaluate, Graph, grad, mul, reduceSum, type Tensor } from "@xlt/graph";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MASKED_SCORE,
  mergeHeads,
  positionsAlong,
  scaledDotProductAttention,
  splitHeads,
} from "./attention.js";
import { Random } from "./random.js";

interface Case {
  readonly batch: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly tq: number;
  readonly tk: number;
  readonly d: number;
}

const randoms = (n: number, random: Random) => Float64Array.from({ length: n }, () => random.normal());

/** Brute-force attention in float64, written index by index from the definition (HF's repeat_kv for groups). */
function reference(
  c: Case,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  mask: readonly boolean[] | null,
  causal: boolean,
): Float64Array {
  const out = new Float64Array(c.batch * c.heads * c.tq * c.d);
  const group = c.heads / c.kvHeads;
  for (let b = 0; b < c.batch; b += 1)
    for (let h = 0; h < c.heads; h += 1) {
      const kh = Math.floor(h / group);
      for (let i = 0; i < c.tq; i += 1) {
        const scores: number[] = [];
        for (let j = 0; j < c.tk; j += 1) {
          let s = 0;
          for (let e = 0; e < c.d; e += 1)
            s +=
              (q[((b * c.heads + h) * c.tq + i) * c.d + e] ?? 0) *
              (k[((b * c.kvHeads + kh) * c.tk + j) * c.d + e] ?? 0);
          const visible = (mask ? (mask[b * c.tk + j] ?? false) : true) && (!causal || j <= i + c.tk - c.tq);
          scores.push(visible ? s / Math.sqrt(c.d) : MASKED_SCORE);
        }
        const top = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - top));
        const total = e.reduce((x, y) => x + y, 0);
        for (let j = 0; j < c.tk; j += 1)
          for (let f = 0; f < c.d; f += 1)
            out[((b * c.heads + h) * c.tq + i) * c.d + f] =
              (out[((b * c.heads + h) * c.tq + i) * c.d + f] ?? 0) +
              ((e[j] ?? 0) / total) * (v[((b * c.kvHeads + kh) * c.tk + j) * c.d + f] ?? 0);
      }
    }
  return out;
}

interface Built {
  readonly out: Tensor;
  readonly grads: Tensor[];
}

function build(c: Case, weights: Float64Array, masked: boolean, causal: boolean, symbolic: boolean): Built {
  const graph = new Graph();
  const steps = (n: number, name: string) => (symbolic ? name : n);
  const q = graph.input("q", "float64", [steps(c.batch, "batch"), c.heads, steps(c.tq, "tq"), c.d]);
  const k = graph.input("k", "float64", [steps(c.batch, "batch"), c.kvHeads, steps(c.tk, "tk"), c.d]);
  const v = graph.input("v", "float64", [steps(c.batch, "batch"), c.kvHeads, steps(c.tk, "tk"), c.d]);
  const mask = masked ? graph.input("mask", "bool", [steps(c.batch, "batch"), steps(c.tk, "tk")]) : undefined;
  const out = scaledDotProductAttention(q, k, v, { ...(mask ? { mask } : {}), causal });
  const loss = reduceSum(mul(out, graph.constant(weights, [c.batch, c.heads, c.tq, c.d])));
  return { out, grads: grad(loss, [q, k, v]) };
}

async function run(c: Case, masked: boolean, causal: boolean, symbolic: boolean, seed: number) {
  const random = new Random(seed);
  const q = randoms(c.batch * c.heads * c.tq * c.d, random);
  const k = randoms(c.batch * c.kvHeads * c.tk * c.d, random);
  const v = randoms(c.batch * c.kvHeads * c.tk * c.d, random);
  const weights = randoms(c.batch * c.heads * c.tq * c.d, random);
  // The last row of keys is all padding: its queries must still give finite outputs.
  const mask = Array.from({ length: c.batch * c.tk }, (_, index) =>
    Math.floor(index / c.tk) === c.batch - 1 && c.batch > 1
      ? false
      : random.next() < 0.7 || index % c.tk === 0,
  );
  const { out, grads } = build(c, weights, masked, causal, symbolic);
  const feeds = {
    q: { data: q, dims: [c.batch, c.heads, c.tq, c.d] },
    k: { data: k, dims: [c.batch, c.kvHeads, c.tk, c.d] },
    v: { data: v, dims: [c.batch, c.kvHeads, c.tk, c.d] },
    ...(masked ? { mask: { data: Uint8Array.from(mask, Number), dims: [c.batch, c.tk] } } : {}),
  };
  const result = await evaluate(
    { out, dq: grads[0] as Tensor, dk: grads[1] as Tensor, dv: grads[2] as Tensor },
    feeds,
  );
  const m = masked ? mask : null;
  const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array) =>
    reference(c, qq, kk, vv, m, causal).reduce((s, x, index) => s + x * (weights[index] ?? 0), 0);
  return { q, k, v, result, expected: reference(c, q, k, v, m, causal), loss };
}

/** Central differences of `loss` in every coordinate of `x` (which it perturbs in place). */
function numericGradient(x: Float64Array, loss: () => number): Float64Array {
  const h = 1e-6;
  return Float64Array.from(x, (value, index) => {
    x[index] = value + h;
    const up = loss();
    x[index] = value - h;
    const down = loss();
    x[index] = value;
    return (up - down) / (2 * h);
  });
}

/** |actual - expected| <= tolerance · (1 + |expected|). */
const close = (actual: ArrayLike<number | bigint>, expected: ArrayLike<number>, tolerance: number) => {
  expect(actual.length).toBe(expected.length);
  for (let index = 0; index < expected.length; index += 1) {
    const want = expected[index] ?? 0;
    expect(Math.abs(Number(actual[index]) - want)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(want)));
  }
};

describe("scaledDotProductAttention", () => {
  const cases: [string, Case, boolean, boolean, boolean][] = [
    ["multi-head, masked", { batch: 2, heads: 2, kvHeads: 2, tq: 3, tk: 3, d: 2 }, true, false, false],
    [
      "grouped-query, masked and causal",
      { batch: 2, heads: 4, kvHeads: 2, tq: 3, tk: 3, d: 2 },
      true,
      true,
      false,
    ],
    [
      "causal, queries the last of the keys",
      { batch: 1, heads: 3, kvHeads: 1, tq: 2, tk: 4, d: 3 },
      false,
      true,
      false,
    ],
    [
      "symbolic batch and steps, causal via Range",
      { batch: 2, heads: 4, kvHeads: 2, tq: 3, tk: 3, d: 2 },
      true,
      true,
      true,
    ],
  ];
  for (const [name, c, masked, causal, symbolic] of cases) {
    it(`${name}: output matches brute force, gradients match central differences`, async () => {
      const { q, k, v, result, expected, loss } = await run(c, masked, causal, symbolic, 7);
      close(result.out?.data ?? [], expected, 1e-12);
      for (const value of expected) expect(Number.isFinite(value)).toBe(true);
      close(
        result.dq?.data ?? [],
        numericGradient(q, () => loss(q, k, v)),
        1e-6,
      );
      close(
        result.dk?.data ?? [],
        numericGradient(k, () => loss(q, k, v)),
        1e-6,
      );
      close(
        result.dv?.data ?? [],
        numericGradient(v, () => loss(q, k, v)),
        1e-6,
      );
    });
  }

  it("matches brute force over random shapes (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          batch: fc.integer({ min: 1, max: 2 }),
          kvHeads: fc.integer({ min: 1, max: 2 }),
          group: fc.integer({ min: 1, max: 3 }),
          tq: fc.integer({ min: 1, max: 3 }),
          extra: fc.integer({ min: 0, max: 2 }),
          d: fc.integer({ min: 1, max: 3 }),
          masked: fc.boolean(),
          causal: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        async (p) => {
          const c = {
            batch: p.batch,
            heads: p.kvHeads * p.group,
            kvHeads: p.kvHeads,
            tq: p.tq,
            tk: p.tq + p.extra,
            d: p.d,
          };
          const { result, expected } = await run(c, p.masked, p.causal, false, p.seed);
          close(result.out?.data ?? [], expected, 1e-12);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("fully masked query rows give the mean of the values, not NaN, in float32", async () => {
    const graph = new Graph();
    const q = graph.input("q", "float32", [1, 1, 2, 1]);
    const kv = graph.input("kv", "float32", [1, 1, 2, 1]);
    const mask = graph.input("mask", "bool", [1, 2]);
    const result = await evaluate(
      { out: scaledDotProductAttention(q, kv, kv, { mask }) },
      {
        q: { data: Float32Array.of(1e4, -3), dims: [1, 1, 2, 1] },
        kv: { data: Float32Array.of(2, 4), dims: [1, 1, 2, 1] },
        mask: { data: Uint8Array.of(0, 0), dims: [1, 2] },
      },
    );
    expect(Array.from(result.out?.data ?? [], Number)).toEqual([3, 3]);
  });

  it("dropout on the probabilities is keyed: same key same output, identity in evaluation", async () => {
    const graph = new Graph();
    const q = graph.input("q", "float64", [1, 2, 4, 3]);
    const key = graph.input("key", "int64", []);
    const train = { training: true, key };
    const dropped = scaledDotProductAttention(q, q, q, { dropout: { rate: 0.5, seed: 11, context: train } });
    const again = scaledDotProductAttention(q, q, q, { dropout: { rate: 0.5, seed: 11, context: train } });
    const plain = scaledDotProductAttention(q, q, q);
    const evaluation = scaledDotProductAttention(q, q, q, {
      dropout: { rate: 0.5, seed: 11, context: { training: false } },
    });
    const feeds = (step: bigint) => ({
      q: { data: randoms(24, new Random(3)), dims: [1, 2, 4, 3] },
      key: { data: BigInt64Array.of(step), dims: [] },
    });
    const first = await evaluate({ dropped, again, plain, evaluation }, feeds(1n));
    const second = await evaluate({ dropped }, feeds(2n));
    expect(Array.from(first.dropped?.data ?? [], Number)).toEqual(
      Array.from(first.again?.data ?? [], Number),
    );
    expect(Array.from(first.evaluation?.data ?? [], Number)).toEqual(
      Array.from(first.plain?.data ?? [], Number),
    );
    expect(Array.from(first.dropped?.data ?? [], Number)).not.toEqual(
      Array.from(first.plain?.data ?? [], Number),
    );
    expect(Array.from(second.dropped?.data ?? [], Number)).not.toEqual(
      Array.from(first.dropped?.data ?? [], Number),
    );
  });

  it("rejects bad shapes and options", () => {
    const graph = new Graph();
    const q = graph.input("q", "float32", [1, 4, 2, 3]);
    const k = graph.input("k", "float32", [1, 3, 2, 3]);
    const k2 = graph.input("k2", "float32", [1, 2, 2, 2]);
    const flat = graph.input("flat", "float32", [1, 2, 3]);
    const mask = graph.input("mask", "float32", [1, 2]);
    const symbolic = graph.input("s", "float32", [1, "h", 2, 3]);
    expect(() => scaledDotProductAttention(flat, q, q)).toThrow(
      "scaledDotProductAttention: q: expected a tensor of rank 4, got [1,2,3]",
    );
    expect(() => scaledDotProductAttention(q, k, k)).toThrow(
      "scaledDotProductAttention: k: expected a head count dividing 4, got 3",
    );
    expect(() => scaledDotProductAttention(q, q, k)).toThrow(
      "scaledDotProductAttention: v: expected 4 heads as k, got 3",
    );
    expect(() => scaledDotProductAttention(q, k2, k2)).toThrow(
      "scaledDotProductAttention: k: expected head size 3 as q, got 2",
    );
    expect(() => scaledDotProductAttention(symbolic, q, q)).toThrow(
      "scaledDotProductAttention: q: expected a fixed size on axis 1, got [1,h,2,3]",
    );
    expect(() => scaledDotProductAttention(q, q, q, { scale: Number.NaN })).toThrow(
      "scaledDotProductAttention: scale: expected a finite number, got NaN",
    );
    expect(() => scaledDotProductAttention(q, q, q, { mask })).toThrow(
      "scaledDotProductAttention: options.mask: expected a bool tensor [batch, keys], got float32[1,2]",
    );
    expect(() => splitHeads(flat, 2)).toThrow("splitHeads: heads: expected a positive divisor of 3, got 2");
    expect(() => splitHeads(q, 2)).toThrow("splitHeads: x: expected a tensor of rank 3, got [1,4,2,3]");
    expect(() => mergeHeads(flat)).toThrow("mergeHeads: x: expected a tensor of rank 4, got [1,2,3]");
  });
});

describe("splitHeads, mergeHeads and positionsAlong", () => {
  it("split [B, T, H·d] into heads as torch's view + transpose, and merge back", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", ["batch", "steps", 6]);
    const heads = splitHeads(x, 3);
    expect(heads.shape).toEqual(["batch", 3, "steps", 2]);
    const merged = mergeHeads(heads);
    expect(merged.shape).toEqual(["batch", "steps", 6]);
    const data = Float64Array.from({ length: 2 * 2 * 6 }, (_, index) => index);
    const result = await evaluate({ heads, merged }, { x: { data, dims: [2, 2, 6] } });
    // heads[b, h, t, e] = x[b, t, h·2 + e]
    const expected: number[] = [];
    for (let b = 0; b < 2; b += 1)
      for (let h = 0; h < 3; h += 1)
        for (let t = 0; t < 2; t += 1)
          for (let e = 0; e < 2; e += 1) expected.push(b * 12 + t * 6 + h * 2 + e);
    expect(Array.from(result.heads?.data ?? [], Number)).toEqual(expected);
    expect(Array.from(result.merged?.data ?? [], Number)).toEqual(Array.from(data, Number));
  });

  it("positionsAlong counts a symbolic axis at run time and a fixed one as a constant", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", [2, "steps", 3]);
    const fixed = graph.input("y", "float32", [4, 2]);
    const result = await evaluate(
      { symbolic: positionsAlong(x, 1), fixed: positionsAlong(fixed, 0) },
      { x: { data: new Float32Array(30), dims: [2, 5, 3] }, y: { data: new Float32Array(8), dims: [4, 2] } },
    );
    expect(Array.from(result.symbolic?.data ?? [], Number)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(result.fixed?.data ?? [], Number)).toEqual([0, 1, 2, 3]);
    expect(() => positionsAlong(x, 3)).toThrow("positionsAlong: axis: expected an axis in [0, 3), got 3");
  });
});
