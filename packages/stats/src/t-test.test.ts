import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pairedTTest, welchTTest } from "./t-test.js";

const sample = (min: number, max: number) =>
  fc.array(
    fc.integer({ min: -1000, max: 1000 }).map((value) => value / 100),
    { minLength: min, maxLength: max },
  );

describe("t-tests", () => {
  it("give p-values in [0, 1] and one-sided p-values that add up to 1", () => {
    fc.assert(
      fc.property(sample(2, 20), sample(2, 20), (a, b) => {
        fc.pre(new Set(a).size > 1 || new Set(b).size > 1);
        const less = welchTTest(a, b, { alternative: "less" }).pValue;
        const greater = welchTTest(a, b, { alternative: "greater" }).pValue;
        const two = welchTTest(a, b).pValue;
        for (const p of [less, greater, two]) expect(p >= 0 && p <= 1).toBe(true);
        expect(less + greater).toBeCloseTo(1, 10);
      }),
    );
  });

  it("Welch is unchanged when the values inside each sample are permuted", () => {
    fc.assert(
      fc.property(sample(2, 15), sample(2, 15), (a, b) => {
        fc.pre(new Set(a).size > 1 || new Set(b).size > 1);
        const before = welchTTest(a, b);
        const after = welchTTest(
          [...a].reverse(),
          [...b].sort((x, y) => x - y),
        );
        expect(after.statistic).toBeCloseTo(before.statistic, 9);
        expect(after.pValue).toBeCloseTo(before.pValue, 9);
      }),
    );
  });

  it("paired CI contains the mean difference and excludes 0 exactly when p < 1 − level", () => {
    const a = [0.81, 0.83, 0.8, 0.85, 0.84, 0.82];
    const b = [0.8, 0.8, 0.79, 0.82, 0.83, 0.8];
    const result = pairedTTest(a, b);
    expect(result.ci[0]).toBeLessThan(result.meanDifference);
    expect(result.ci[1]).toBeGreaterThan(result.meanDifference);
    expect(result.pValue < 0.05).toBe(result.ci[0] > 0);
  });

  it("rejects degenerate and malformed input", () => {
    expect(() => pairedTTest([1, 2, 3], [0, 1, 2])).toThrow(
      "pairedTTest: b: expected differences a − b that are not all equal, got zero variance",
    );
    expect(() => welchTTest([1, 1], [2, 2])).toThrow(
      "welchTTest: b: expected samples that are not both constant, got zero variance",
    );
    expect(() => pairedTTest([1], [2])).toThrow("pairedTTest: a: expected at least 2 values, got 1");
    expect(() => pairedTTest([1, 2], [2, 3, 4])).toThrow(
      "pairedTTest: b: expected 2 values like a (paired), got 3",
    );
    expect(() => pairedTTest([1, Number.NaN], [2, 3])).toThrow(
      "pairedTTest: a[1]: expected a finite number, got NaN",
    );
    expect(() => pairedTTest(JSON.parse('"12"'), [2, 3])).toThrow(
      "pairedTTest: a: expected an array of numbers, got string",
    );
    // @ts-expect-error: an invalid alternative on purpose
    expect(() => welchTTest([1, 2], [2, 4], { alternative: "both" })).toThrow(
      'welchTTest: options.alternative: expected "two-sided", "less" or "greater", got "both"',
    );
    expect(() => pairedTTest([1, 2], [2, 4], { confidenceLevel: 95 })).toThrow(
      "pairedTTest: options.confidenceLevel: expected a number strictly between 0 and 1, got 95",
    );
  });
});
