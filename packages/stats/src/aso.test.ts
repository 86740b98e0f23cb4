import { describe, expect, it } from "vitest";
import { aso, multiAso, violationRatio } from "./aso.js";
import { loadFixture } from "./test-utils/reference.js";

interface Pair {
  readonly a: number[];
  readonly b: number[];
  readonly violationRatio: number;
  readonly epsilonMin: number;
  readonly confidenceLevel: number;
  readonly numBootstrap: number;
  readonly dt: number;
}
const { pairs, generatedWith } = loadFixture<{ pairs: Pair[]; generatedWith: { seed: number } }>(
  "aso-reference.json",
);

describe("aso against deep-significance 1.2 (12 pairs)", () => {
  it("has the same violation ratio, bit for bit", () => {
    expect(pairs).toHaveLength(12);
    for (const pair of pairs) expect(violationRatio(pair.a, pair.b, pair.dt)).toBe(pair.violationRatio);
  });

  it("has ε_min within bootstrap noise (±0.03), and here the very same bootstrap draws", () => {
    let worst = 0;
    for (const pair of pairs) {
      const result = aso(pair.a, pair.b, {
        confidenceLevel: pair.confidenceLevel,
        numBootstrap: pair.numBootstrap,
        dt: pair.dt,
        seed: generatedWith.seed,
      });
      expect(result.violationRatio).toBe(pair.violationRatio);
      expect(Math.abs(result.epsilonMin - pair.epsilonMin)).toBeLessThan(0.03);
      worst = Math.max(
        worst,
        Math.abs(result.epsilonMin - pair.epsilonMin) / Math.max(pair.epsilonMin, 1e-300),
      );
    }
    expect(worst).toBeLessThan(1e-9);
  });
});

describe("aso properties", () => {
  const a = [0.82, 0.85, 0.8, 0.86, 0.84, 0.83, 0.81, 0.87, 0.85, 0.84];
  const b = [0.8, 0.83, 0.81, 0.82, 0.83, 0.8, 0.8, 0.84, 0.83, 0.85];

  it("gives ε = 0 when every score of A beats every score of B, and 0.5 for identical samples", () => {
    expect(violationRatio([0.9, 0.95, 0.92], [0.8, 0.85, 0.7])).toBe(0);
    expect(aso([0.9, 0.95, 0.92], [0.8, 0.85, 0.7]).epsilonMin).toBe(0);
    expect(violationRatio(a, a)).toBe(0.5);
  });

  it("multiAso's pair (i, j) is aso with numComparisons = k(k − 1)/2, and (j, i) uses 1 − ε_W2", () => {
    const c = [0.79, 0.8, 0.78, 0.81, 0.8, 0.79, 0.82, 0.8, 0.77, 0.8];
    const result = multiAso({ a, b, c }, { seed: 3, numBootstrap: 300 });
    expect(result.names).toEqual(["a", "b", "c"]);
    const pair = aso(a, c, { seed: 3, numBootstrap: 300, numComparisons: 3 });
    expect(result.epsilonMin[0]![2]).toBe(pair.epsilonMin);
    expect(result.epsilonMin[1]![1]).toBe(1);
    const reverse = multiAso({ c, a }, { seed: 3, numBootstrap: 300, useBonferroni: false });
    const forward = aso(c, a, { seed: 3, numBootstrap: 300 });
    expect(reverse.epsilonMin[0]![1]).toBe(forward.epsilonMin);
    expect(reverse.epsilonMin[1]![0]).toBeGreaterThanOrEqual(0);
  });

  it("names bad input", () => {
    expect(() => aso([], b)).toThrow("aso: a: expected at least 1 value, got 0");
    expect(() => aso(a, b, { dt: 0 })).toThrow(
      "aso: options.dt: expected a number strictly between 0 and 1, got 0",
    );
    expect(() => aso(a, b, { seed: 2 ** 32 - 10 })).toThrow(
      "aso: options.seed: expected at most 4294966295 (seed + iterations < 2^32), got 4294967286",
    );
    expect(() => multiAso({ a })).toThrow("multiAso: scoresByModel: expected at least 2 models, got 1");
    expect(() => violationRatio(a, b, 2)).toThrow(
      "violationRatio: dt: expected a number strictly between 0 and 1, got 2",
    );
  });
});
