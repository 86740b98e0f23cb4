import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADJUST_METHODS, type AdjustMethod, adjustPValues } from "./adjust.js";

describe("adjustPValues", () => {
  it("never goes below the raw p, never above 1, and keeps the order of the raw p-values", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.constantFrom(...ADJUST_METHODS),
        (p, method) => {
          const adjusted = adjustPValues(p, method);
          p.forEach((raw, i) => {
            expect(adjusted[i]!).toBeGreaterThanOrEqual(raw * (1 - 1e-12));
            expect(adjusted[i]!).toBeLessThanOrEqual(1);
            p.forEach((other, j) => {
              if (raw < other) expect(adjusted[i]!).toBeLessThanOrEqual(adjusted[j]! * (1 + 1e-12));
            });
          });
        },
      ),
    );
  });

  it("names bad input", () => {
    expect(() => adjustPValues([], "holm")).toThrow(
      "adjustPValues: p: expected a non-empty array of p-values, got []",
    );
    expect(() => adjustPValues([0.2, 1.5], "holm")).toThrow(
      "adjustPValues: p[1]: expected a p-value in [0, 1], got 1.5",
    );
    expect(() => adjustPValues([0.2], "fdr" as AdjustMethod)).toThrow(
      'adjustPValues: method: expected "bonferroni" | "sidak" | "holm" | "holm-sidak" | "hochberg" | "hommel" | "bh" | "by", got "fdr"',
    );
    expect(() => adjustPValues([0.2], JSON.parse("null") ?? undefined)).toThrow(
      "adjustPValues: method: expected bonferroni | sidak | holm | holm-sidak | hochberg | hommel | bh | by, got undefined",
    );
  });
});
