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
