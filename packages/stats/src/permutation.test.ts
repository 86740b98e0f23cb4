import { describe, expect, it } from "vitest";
import { pairedPermutationTest } from "./permutation.js";

describe("pairedPermutationTest", () => {
  const a = [0.82, 0.85, 0.8, 0.86, 0.84, 0.83, 0.81, 0.87, 0.85, 0.84];
  const b = [0.8, 0.83, 0.81, 0.82, 0.83, 0.8, 0.8, 0.84, 0.83, 0.85];

  it("random sign flips converge to the exact p-value", () => {
    const exact = pairedPermutationTest(a, b, { exact: true });
    const sampled = pairedPermutationTest(a, b, { exact: false, resamples: 40000, seed: 7 });
    expect(exact.resamples).toBe(1024);
    const se = Math.sqrt((exact.pValue * (1 - exact.pValue)) / 40000);
    expect(Math.abs(sampled.pValue - exact.pValue)).toBeLessThan(4 * se + 1e-4);
  });

  it("is seeded: the same seed gives the same p-value, p = (c + 1) / (n + 1)", () => {
    const first = pairedPermutationTest(a, b, { exact: false, resamples: 999, seed: 3 });
    const second = pairedPermutationTest(a, b, { exact: false, resamples: 999, seed: 3 });
    expect(second.pValue).toBe(first.pValue);
    expect(
      Number.isInteger(first.pValue * 1000 - 1) || Number.isInteger(Math.round(first.pValue * 500)),
    ).toBe(true);
  });

  it("refuses an exact test it cannot enumerate", () => {
    const many = Array.from({ length: 30 }, (_, i) => i);
    expect(() => pairedPermutationTest(many, many, { exact: true })).toThrow(
      "pairedPermutationTest: options.exact: expected false for more than 26 pairs (2^n flips), got true with 30",
    );
    expect(() => pairedPermutationTest(a, b, { resamples: 0 })).toThrow(
      "pairedPermutationTest: options.resamples: expected an integer >= 1, got 0",
    );
  });
});
