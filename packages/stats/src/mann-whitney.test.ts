import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mannWhitneyU } from "./mann-whitney.js";

describe("mannWhitneyU", () => {
  it("exact p equals brute-force enumeration of all group assignments", () => {
    const a = [0.81, 0.9, 0.77, 0.86];
    const b = [0.7, 0.79, 0.74, 0.72, 0.83];
    const all = [...a, ...b];
    const u = (x: number[], y: number[]) =>
      x.reduce((sum, xi) => sum + y.reduce((s, yj) => s + (xi > yj ? 1 : xi === yj ? 0.5 : 0), 0), 0);
    const observed = u(a, b);
    let atLeast = 0;
    let total = 0;
    for (let mask = 0; mask < 2 ** all.length; mask++) {
      const x = all.filter((_, i) => (mask >> i) & 1);
      if (x.length !== a.length) continue;
      const y = all.filter((_, i) => !((mask >> i) & 1));
      total++;
      if (u(x, y) >= observed) atLeast++;
    }
    const result = mannWhitneyU(a, b, { alternative: "greater" });
    expect(result.method).toBe("exact");
    expect(result.statistic).toBe(observed);
    expect(result.pValue).toBeCloseTo(atLeast / total, 14);
  });

  it("is unchanged when the values inside each sample are permuted, and p lies in [0, 1]", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 12 }),
        (a, b) => {
          const before = mannWhitneyU(a, b);
          const after = mannWhitneyU(
            [...a].reverse(),
            [...b].sort((x, y) => y - x),
          );
          expect(after.statistic).toBe(before.statistic);
          expect(after.pValue).toBeCloseTo(before.pValue, 12);
          expect(before.pValue >= 0 && before.pValue <= 1).toBe(true);
        },
      ),
    );
  });

  it("handles samples whose values are all equal as scipy 1.10 does, throwing where scipy gives NaN", () => {
    // scipy.stats.mannwhitneyu([1, 1, 1], [1, 1], ...): statistic 3.0 throughout; p 1.0 (asymptotic with
    // continuity, exact two-sided), 0.6 (exact one-sided), nan (asymptotic without continuity).
    expect(mannWhitneyU([1, 1, 1], [1, 1])).toEqual({ statistic: 3, pValue: 1, method: "asymptotic" });
    expect(mannWhitneyU([1, 1, 1], [1, 1], { alternative: "less" }).pValue).toBe(1);
    expect(mannWhitneyU([1, 1, 1], [1, 1], { useContinuity: false, method: "exact" })).toEqual({
      statistic: 3,
      pValue: 1,
      method: "exact",
    });
    expect(
      mannWhitneyU([1, 1, 1], [1, 1], { useContinuity: false, method: "exact", alternative: "greater" })
        .pValue,
    ).toBeCloseTo(0.6, 14);
    for (const alternative of ["two-sided", "less", "greater"] as const) {
      expect(() => mannWhitneyU([1, 1, 1], [1, 1], { useContinuity: false, alternative })).toThrow(
        "mannWhitneyU: b: expected some value that differs from the rest (the asymptotic test without continuity correction), got every value of a and b equal to 1",
      );
    }
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        (value, m, n) => {
          const a = Array.from({ length: m }, () => value);
          const b = Array.from({ length: n }, () => value);
          const result = mannWhitneyU(a, b, { method: "asymptotic" });
          expect(result.statistic).toBe((m * n) / 2);
          expect(result.pValue).toBe(1);
          expect(() => mannWhitneyU(a, b, { useContinuity: false })).toThrow("mannWhitneyU: b: expected");
        },
      ),
    );
  });

  it("names a bad method and refuses an exact distribution it cannot build", () => {
    const big = Array.from({ length: 1000 }, (_, i) => i);
    expect(() => mannWhitneyU(big, big, { method: "exact" })).toThrow(
      'mannWhitneyU: options.method: expected "asymptotic" for samples of 1000 and 1000 values, got "exact"',
    );
    // @ts-expect-error: an invalid method on purpose
    expect(() => mannWhitneyU([1], [2], { method: "normal" })).toThrow(
      'mannWhitneyU: options.method: expected "auto" | "exact" | "asymptotic", got "normal"',
    );
  });
});
