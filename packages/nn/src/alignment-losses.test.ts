import { readFileSync } from "node:fs";
import { evaluate, Graph, grad, type Tensor, type TensorValue } from "@xlt/graph";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alignmentLoss,
  averageLinkageAlignment,
  identicalStringAlignment,
  identicalStringPairs,
  meanVarianceAlignment,
} from "./alignment-losses.js";

// Reference values and gradients from torch autograd (float64): fixtures/make_alignment_losses.py.
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/alignment-losses.json", import.meta.url), "utf8"),
);

interface Case {
  hiddenA: number[];
  dimsA: number[];
  maskA: number[];
  hiddenB: number[];
  dimsB: number[];
  maskB: number[];
  loss: number;
  gradA: number[];
  gradB: number[];
}

const numbers = (value: TensorValue | undefined): number[] =>
  Array.from({ length: value?.data.length ?? 0 }, (_, i) => Number(value?.data[i]));

function maxError(actual: TensorValue | undefined, expected: readonly number[]): number {
  const got = numbers(actual);
  expect(got).toHaveLength(expected.length);
  return Math.max(...expected.map((value, index) => Math.abs(value - (got[index] ?? Number.NaN))));
}

type PairLoss = (ha: Tensor, ma: Tensor, hb: Tensor, mb: Tensor) => Tensor;

/** A graph over float64 hidden states with symbolic batch and steps, int64 masks, loss and gradients. */
function build(loss: PairLoss, dim: number) {
  const graph = new Graph();
  const ha = graph.input("hiddenA", "float64", ["batchA", "stepsA", dim]);
  const hb = graph.input("hiddenB", "float64", ["batchB", "stepsB", dim]);
  const ma = graph.input("maskA", "int64", ["batchA", "stepsA"]);
  const mb = graph.input("maskB", "int64", ["batchB", "stepsB"]);
  const value = loss(ha, ma, hb, mb);
  const [gradA, gradB] = grad(value, [ha, hb]);
  return { loss: value, gradA: gradA as Tensor, gradB: gradB as Tensor };
}

function feeds(c: Case, hiddenA = c.hiddenA, hiddenB = c.hiddenB): Record<string, TensorValue> {
  return {
    hiddenA: { data: Float64Array.from(hiddenA), dims: c.dimsA },
    hiddenB: { data: Float64Array.from(hiddenB), dims: c.dimsB },
    maskA: { data: BigInt64Array.from(c.maskA, BigInt), dims: c.dimsA.slice(0, 2) },
    maskB: { data: BigInt64Array.from(c.maskB, BigInt), dims: c.dimsB.slice(0, 2) },
  };
}

/** Central differences along random directions against the graph's gradients; worst relative error. */
async function finiteDifferences(loss: PairLoss, c: Case, seed: number): Promise<number> {
  const outputs = build(loss, c.dimsA[2] ?? 0);
  const base = await evaluate(outputs, feeds(c));
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  let worst = 0;
  for (let direction = 0; direction < 3; direction++) {
    const va = c.hiddenA.map(random);
    const vb = c.hiddenB.map(random);
    const h = 1e-5;
    const at = async (sign: number) => {
      const result = await evaluate(
        { loss: outputs.loss },
        feeds(
          c,
          c.hiddenA.map((x, i) => x + sign * h * (va[i] ?? 0)),
          c.hiddenB.map((x, i) => x + sign * h * (vb[i] ?? 0)),
        ),
      );
      return numbers(result.loss)[0] ?? Number.NaN;
    };
    const numeric = ((await at(1)) - (await at(-1))) / (2 * h);
    const ga = numbers(base.gradA);
    const gb = numbers(base.gradB);
    const analytic =
      va.reduce((s, v, i) => s + v * (ga[i] ?? Number.NaN), 0) +
      vb.reduce((s, v, i) => s + v * (gb[i] ?? Number.NaN), 0);
    worst = Math.max(worst, Math.abs(numeric - analytic) / Math.max(1, Math.abs(numeric)));
  }
  return worst;
}

const epsilon: number = reference.epsilon;
const averageLinkage: PairLoss = (ha, ma, hb, mb) => averageLinkageAlignment(ha, ma, hb, mb, { epsilon });

describe("alignment losses match torch autograd (float64)", () => {
  for (const [name, loss] of [
    ["meanVariance", meanVarianceAlignment],
    ["averageLinkage", averageLinkage],
  ] as const) {
    it(`${name}: value and gradients within 1e-9, zero gradient on padding`, async () => {
      const c: Case = reference[name];
      const result = await evaluate(build(loss, c.dimsA[2] ?? 0), feeds(c));
      expect(Math.abs((numbers(result.loss)[0] ?? Number.NaN) - c.loss)).toBeLessThanOrEqual(1e-9);
      expect(maxError(result.gradA, c.gradA)).toBeLessThanOrEqual(1e-9);
      expect(maxError(result.gradB, c.gradB)).toBeLessThanOrEqual(1e-9);
      const dim = c.dimsA[2] ?? 0;
      numbers(result.gradA).forEach((g, i) => {
        if (c.maskA[Math.floor(i / dim)] === 0) expect(g).toBe(0);
      });
    });

    it(`${name}: gradients match central finite differences`, async () => {
      expect(await finiteDifferences(loss, reference[name], 7)).toBeLessThanOrEqual(1e-6);
    });
  }

  it("alignmentLoss weights and sums the chosen layers", async () => {
    const { dimsA, dimsB, maskA, maskB, cases } = reference.layered;
    for (const c of cases) {
      const graph = new Graph();
      const la = c.hiddenA.map((_: number[], l: number) =>
        graph.input(`a${l}`, "float64", ["batchA", "stepsA", 3]),
      );
      const lb = c.hiddenB.map((_: number[], l: number) =>
        graph.input(`b${l}`, "float64", ["batchB", "stepsB", 3]),
      );
      const ma = graph.input("maskA", "int64", ["batchA", "stepsA"]);
      const mb = graph.input("maskB", "int64", ["batchB", "stepsB"]);
      const loss = alignmentLoss(la, ma, lb, mb, {
        kind: c.kind,
        weight: c.weight,
        layers: c.layers,
        epsilon,
      });
      const grads = grad(loss, [...la, ...lb]);
      const outputs: Record<string, Tensor> = { loss };
      grads.forEach((g, index) => {
        outputs[`g${index}`] = g;
      });
      const values: Record<string, TensorValue> = {
        maskA: { data: BigInt64Array.from(maskA, BigInt), dims: dimsA.slice(0, 2) },
        maskB: { data: BigInt64Array.from(maskB, BigInt), dims: dimsB.slice(0, 2) },
      };
      c.hiddenA.forEach((data: number[], l: number) => {
        values[`a${l}`] = { data: Float64Array.from(data), dims: dimsA };
      });
      c.hiddenB.forEach((data: number[], l: number) => {
        values[`b${l}`] = { data: Float64Array.from(data), dims: dimsB };
      });
      const result = await evaluate(outputs, values);
      expect(Math.abs((numbers(result.loss)[0] ?? Number.NaN) - c.loss)).toBeLessThanOrEqual(1e-9);
      const expected = [...c.gradA, ...c.gradB];
      expected.forEach((g: number[], index: number) => {
        expect(maxError(result[`g${index}`], g)).toBeLessThanOrEqual(1e-9);
      });
    }
  });

  it("identicalStringAlignment: value and table gradients within 1e-9", async () => {
    const c = reference.identicalString;
    const graph = new Graph();
    const ta = graph.input("tableA", "float64", [6, 3]);
    const tb = graph.input("tableB", "float64", [5, 3]);
    const loss = identicalStringAlignment(ta, tb, c.pairs, { weight: c.weight });
    const [ga, gb] = grad(loss, [ta, tb]);
    const result = await evaluate(
      { loss, ga: ga as Tensor, gb: gb as Tensor },
      {
        tableA: { data: Float64Array.from(c.tableA), dims: [6, 3] },
        tableB: { data: Float64Array.from(c.tableB), dims: [5, 3] },
      },
    );
    expect(Math.abs((numbers(result.loss)[0] ?? Number.NaN) - c.loss)).toBeLessThanOrEqual(1e-9);
    expect(maxError(result.ga, c.gradA)).toBeLessThanOrEqual(1e-9);
    expect(maxError(result.gb, c.gradB)).toBeLessThanOrEqual(1e-9);
  });
});

describe("alignment losses: properties", () => {
  it("averageLinkage in float32 stays finite at coincident tokens and near the float64 reference", async () => {
    const c: Case = reference.averageLinkage;
    const graph = new Graph();
    const ha = graph.input("hiddenA", "float32", ["batchA", "stepsA", 3]);
    const hb = graph.input("hiddenB", "float32", ["batchB", "stepsB", 3]);
    const ma = graph.input("maskA", "int64", ["batchA", "stepsA"]);
    const mb = graph.input("maskB", "int64", ["batchB", "stepsB"]);
    const loss = averageLinkage(ha, ma, hb, mb);
    const [ga, gb] = grad(loss, [ha, hb]);
    const values = feeds(c);
    const result = await evaluate(
      { loss, ga: ga as Tensor, gb: gb as Tensor },
      {
        ...values,
        hiddenA: { data: Float32Array.from(c.hiddenA), dims: c.dimsA },
        hiddenB: { data: Float32Array.from(c.hiddenB), dims: c.dimsB },
      },
    );
    expect(Math.abs((numbers(result.loss)[0] ?? Number.NaN) - c.loss)).toBeLessThanOrEqual(
      1e-4 * Math.abs(c.loss),
    );
    expect(maxError(result.ga, c.gradA)).toBeLessThanOrEqual(1e-3);
    expect(maxError(result.gb, c.gradB)).toBeLessThanOrEqual(1e-3);
  });

  it("are ~0 for the same token set in both languages, whatever the padding holds, and average linkage is >= 0 (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 8, maxLength: 8 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 12, maxLength: 12 }),
        fc.double({ min: -50, max: 50, noNaN: true }),
        async (tokens, other, padding) => {
          // A: one row of 4 real tokens; B: the same tokens in reverse over two rows, then padding.
          const a = tokens;
          const b = [...tokens.slice(4, 8), padding, padding, ...tokens.slice(0, 4), padding, padding];
          const same: Case = {
            hiddenA: a,
            dimsA: [1, 4, 2],
            maskA: [1, 1, 1, 1],
            hiddenB: b,
            dimsB: [2, 3, 2],
            maskB: [1, 1, 0, 1, 1, 0],
            loss: 0,
            gradA: [],
            gradB: [],
          };
          for (const loss of [meanVarianceAlignment, averageLinkage]) {
            const result = await evaluate({ loss: build(loss, 2).loss }, feeds(same));
            expect(Math.abs(numbers(result.loss)[0] ?? Number.NaN)).toBeLessThanOrEqual(1e-9);
          }
          const different = { ...same, hiddenB: other, maskB: [1, 0, 0, 1, 1, 1] };
          const result = await evaluate({ loss: build(averageLinkage, 2).loss }, feeds(different));
          expect(numbers(result.loss)[0]).toBeGreaterThanOrEqual(-1e-12);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("identicalStringPairs pairs tokens spelled alike, sorted, leaving out excluded ones", () => {
    const en = { "[CLS]": 0, the: 5, "##s": 7, berlin: 9 };
    const de = { "[CLS]": 1, berlin: 3, die: 4, "##s": 8, the: 2 };
    expect(identicalStringPairs(en, de, { exclude: ["[CLS]"] })).toEqual([
      [5, 2],
      [7, 8],
      [9, 3],
    ]);
    expect(identicalStringPairs({ toString: 4 }, {})).toEqual([]);
  });
});

describe("alignment losses: errors", () => {
  it("reject bad tensors and options", () => {
    const graph = new Graph();
    const h = graph.input("h", "float64", ["b", "s", 3]);
    const m = graph.input("m", "int64", ["b", "s"]);
    const h4 = graph.input("h4", "float64", ["b", "s", 4]);
    const h32 = graph.input("h32", "float32", ["b", "s", 3]);
    const ids = graph.input("ids", "int64", ["b", "s", 3]);
    const flat = graph.input("flat", "float64", ["b", 3]);
    const open = graph.input("open", "float64", ["b", "s", "d"]);
    expect(() => meanVarianceAlignment(ids, m, h, m)).toThrow(
      "meanVarianceAlignment: hiddenA: expected a float32 or float64 tensor, got int64",
    );
    expect(() => meanVarianceAlignment(h, m, flat, m)).toThrow(
      "meanVarianceAlignment: hiddenB: expected a [batch, steps, dim] tensor, got rank 2",
    );
    expect(() => meanVarianceAlignment(open, m, h, m)).toThrow(
      'meanVarianceAlignment: hiddenA: expected a fixed dim, got "d"',
    );
    expect(() => meanVarianceAlignment(h, h, h, m)).toThrow(
      "meanVarianceAlignment: maskA: expected a [batch, steps] tensor, got rank 3",
    );
    expect(() =>
      meanVarianceAlignment(
        h,
        m,
        graph.input("fixed", "float64", [2, 3, 3]),
        graph.input("m23", "int64", [2, 4]),
      ),
    ).toThrow("meanVarianceAlignment: maskB: expected the shape [2, 3], got [2, 4]");
    expect(() => meanVarianceAlignment(h, m, h32, m)).toThrow(
      "meanVarianceAlignment: hiddenB: expected the dtype of hiddenA (float64), got float32",
    );
    expect(() => averageLinkageAlignment(h, m, h4, m)).toThrow(
      "averageLinkageAlignment: hiddenB: expected the dim of hiddenA (3), got 4",
    );
    expect(() => averageLinkageAlignment(h, m, h, m, { epsilon: 0 })).toThrow(
      "averageLinkageAlignment: options.epsilon: expected a finite number > 0, got 0",
    );
    expect(() => alignmentLoss([h], m, [h], m, { kind: JSON.parse('"cosine"') })).toThrow(
      'alignmentLoss: options.kind: expected "meanVariance" or "averageLinkage", got "cosine"',
    );
    expect(() => alignmentLoss([h, h], m, [h], m, { kind: "meanVariance" })).toThrow(
      "alignmentLoss: hiddenB: expected 2 layers like hiddenA, got 1",
    );
    expect(() => alignmentLoss([h], m, [h], m, { kind: "meanVariance", weight: -1 })).toThrow(
      "alignmentLoss: options.weight: expected a finite number >= 0, got -1",
    );
    expect(() => alignmentLoss([h], m, [h], m, { kind: "meanVariance", layers: [] })).toThrow(
      "alignmentLoss: options.layers: expected at least one layer, got none",
    );
    expect(() => alignmentLoss([h], m, [h], m, { kind: "averageLinkage", layers: [0, 1] })).toThrow(
      "alignmentLoss: options.layers[1]: expected a layer index in [0, 1), got 1",
    );
    const table = graph.input("table", "float64", [5, 3]);
    const other = graph.input("other", "float64", [5, 4]);
    expect(() => identicalStringAlignment(m, table, [[0, 0]])).toThrow(
      "identicalStringAlignment: tableA: expected a float [vocabulary, dim] tensor, got int64 of rank 2",
    );
    expect(() => identicalStringAlignment(table, h, [[0, 0]])).toThrow(
      "identicalStringAlignment: tableB: expected a float [vocabulary, dim] tensor, got float64 of rank 3",
    );
    expect(() =>
      identicalStringAlignment(table, graph.input("table32", "float32", [5, 3]), [[0, 0]]),
    ).toThrow("identicalStringAlignment: tableB: expected the dtype of tableA (float64), got float32");
    expect(() => identicalStringAlignment(table, other, [[0, 0]])).toThrow(
      "identicalStringAlignment: tableB: expected the dim of tableA (3), got 4",
    );
    expect(() => identicalStringAlignment(table, table, [])).toThrow(
      "identicalStringAlignment: pairs: expected at least one pair, got none",
    );
    expect(() => identicalStringAlignment(table, table, [[0, 0]], { weight: Number.NaN })).toThrow(
      "identicalStringAlignment: options.weight: expected a finite number >= 0, got NaN",
    );
    expect(() => identicalStringAlignment(table, table, [[0, 5]])).toThrow(
      "identicalStringAlignment: pairs[0][1]: expected a row of tableB in [0, 5), got 5",
    );
  });
});
