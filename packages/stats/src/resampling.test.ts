import { describe, expect, it } from "vitest";
import { approximateRandomization, microF1, pairedBootstrap, type SentenceMatrix } from "./resampling.js";

/** Per-sentence [tp, predicted, gold] for one entity type. */
function matrix(rows: number[][]): SentenceMatrix {
  return { data: rows.flat(), dims: [rows.length, rows[0]!.length] };
}

function totals(rows: number[][], pick: (index: number) => boolean): Float64Array {
  const out = new Float64Array(rows[0]!.length);
  rows.forEach((row, i) => {
    if (!pick(i)) return;
    row.forEach((value, c) => {
      out[c]! += value;
    });
  });
  return out;
}

const A = [
  [2, 2, 3],
  [1, 2, 1],
  [3, 3, 3],
  [0, 1, 1],
  [2, 2, 2],
  [1, 1, 2],
  [4, 4, 4],
  [1, 2, 2],
];
const B = [
  [1, 2, 3],
  [1, 1, 1],
  [2, 3, 3],
  [0, 0, 1],
  [2, 3, 2],
  [0, 1, 2],
  [3, 4, 4],
  [1, 1, 2],
];

describe("microF1", () => {
  it("is micro F1 over [tp, predicted, gold] triples", () => {
    expect(microF1(Float64Array.of(3, 4, 6, 1, 2, 2))).toBeCloseTo(
      (2 * (4 / 6) * (4 / 8)) / (4 / 6 + 4 / 8),
      15,
    );
    expect(microF1(Float64Array.of(0, 0, 0))).toBe(0);
  });
});

describe("approximateRandomization", () => {
  it("converges to the exact 2^n swap distribution", () => {
    const n = A.length;
    const observed = microF1(totals(A, () => true)) - microF1(totals(B, () => true));
    let extreme = 0;
    for (let mask = 0; mask < 2 ** n; mask++) {
      const swappedA = A.map((row, i) => ((mask >> i) & 1 ? B[i]! : row));
      const swappedB = B.map((row, i) => ((mask >> i) & 1 ? A[i]! : row));
      const delta = microF1(totals(swappedA, () => true)) - microF1(totals(swappedB, () => true));
      if (Math.abs(delta) >= Math.abs(observed) - 1e-12) extreme++;
    }
    const exact = extreme / 2 ** n;
    const result = approximateRandomization(matrix(A), matrix(B), { resamples: 40000, seed: 11 });
    expect(result.difference).toBeCloseTo(observed, 15);
    expect(Math.abs(result.pValue - exact)).toBeLessThan(4 * Math.sqrt((exact * (1 - exact)) / 40000) + 1e-4);
  });

  it("gives p = 1 for identical systems", () => {
    expect(approximateRandomization(matrix(A), matrix(A), { resamples: 99 }).pValue).toBe(1);
  });
});

describe("pairedBootstrap", () => {
  it("converges to the exact bootstrap distribution (all n^n index tuples)", () => {
    const rowsA = A.slice(0, 5);
    const rowsB = B.slice(0, 5);
    const n = rowsA.length;
    const observed = microF1(totals(rowsA, () => true)) - microF1(totals(rowsB, () => true));
    let extreme = 0;
    const indices = new Array<number>(n).fill(0);
    const total = n ** n;
    for (let t = 0; t < total; t++) {
      let rest = t;
      for (let k = 0; k < n; k++) {
        indices[k] = rest % n;
        rest = Math.floor(rest / n);
      }
      const sumA = new Float64Array(3);
      const sumB = new Float64Array(3);
      for (const i of indices) {
        for (let c = 0; c < 3; c++) {
          sumA[c]! += rowsA[i]![c]!;
          sumB[c]! += rowsB[i]![c]!;
        }
      }
      if (microF1(sumA) - microF1(sumB) - observed >= observed) extreme++;
    }
    const exact = extreme / total;
    const result = pairedBootstrap(matrix(rowsA), matrix(rowsB), {
      resamples: 40000,
      seed: 5,
      alternative: "greater",
    });
    expect(Math.abs(result.pValue - exact)).toBeLessThan(4 * Math.sqrt((exact * (1 - exact)) / 40000) + 1e-4);
    expect(result.ci[0]).toBeLessThan(result.difference);
    expect(result.ci[1]).toBeGreaterThan(result.difference);
  });

  it("is seeded and uses p = (c + 1) / (n + 1)", () => {
    const first = pairedBootstrap(matrix(A), matrix(B), { resamples: 999, seed: 2 });
    expect(pairedBootstrap(matrix(A), matrix(B), { resamples: 999, seed: 2 })).toEqual(first);
    expect(Number.isInteger(Math.round(first.pValue * 1000 * 1e6) / 1e6)).toBe(true);
  });

  it("names malformed statistics", () => {
    expect(() => pairedBootstrap(matrix(A), matrix(B.slice(1)))).toThrow(
      "pairedBootstrap: b.dims: expected [8, 3] like a (paired sentences), got [7, 3]",
    );
    expect(() => pairedBootstrap({ data: [1, 2], dims: [1, 3] }, matrix(B))).toThrow(
      "pairedBootstrap: a.data: expected 3 values (dims 1 × 3), got 2",
    );
    expect(() => approximateRandomization({ data: [], dims: [0, 3] }, matrix(B))).toThrow(
      "approximateRandomization: a.dims: expected [sentences >= 1, columns >= 1], got [0,3]",
    );
    expect(() => approximateRandomization({ data: [Number.NaN], dims: [1, 1] }, matrix(B))).toThrow(
      "approximateRandomization: a.data[0]: expected a finite number, got NaN",
    );
    expect(() => pairedBootstrap(matrix(A), matrix(B), { metric: JSON.parse('"f1"') })).toThrow(
      "pairedBootstrap: options.metric: expected a function of column totals, got string",
    );
    expect(() => approximateRandomization(JSON.parse("null"), matrix(B))).toThrow(
      "approximateRandomization: a: expected { data, dims: [sentences, columns] }, got object",
    );
  });
});
