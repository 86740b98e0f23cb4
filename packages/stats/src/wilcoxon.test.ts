import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { wilcoxonSignedRank } from "./wilcoxon.js";

describe("wilcoxonSignedRank", () => {
  it("exact p equals brute-force enumeration of all 2^n sign assignments", () => {
    const a = [1.3, 2.9, 3.1, 4.8, 5.2, 6.7, 7.05];
    const b = [1.0, 2.0, 3.5, 4.0, 5.9, 5.5, 7.0];
    const d = a.map((x, i) => x - b[i]!);
    const order = d.map((_, i) => i).sort((i, j) => Math.abs(d[i]!) - Math.abs(d[j]!));
    const ranks = new Array<number>(d.length);
    order.forEach((index, rank) => {
      ranks[index] = rank + 1;
    });
    const observed = d.reduce((sum, value, i) => sum + (value > 0 ? ranks[i]! : 0), 0);
    let atLeast = 0;
    for (let mask = 0; mask < 2 ** d.length; mask++) {
      let plus = 0;
      for (let i = 0; i < d.length; i++) if ((mask >> i) & 1) plus += ranks[i]!;
      if (plus >= observed) atLeast++;
    }
    const result = wilcoxonSignedRank(a, b, { alternative: "greater", method: "exact" });
    expect(result.statistic).toBe(observed);
    expect(result.pValue).toBeCloseTo(atLeast / 2 ** d.length, 14);
  });

  it("gives p-values in [0, 1]", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.constantFrom("wilcox" as const, "pratt" as const, "zsplit" as const),
        fc.boolean(),
        (pairs, zeroMethod, correction) => {
          const a = pairs.map(([x]) => x);
          const b = pairs.map(([, y]) => y);
          fc.pre(zeroMethod === "zsplit" || pairs.some(([x, y]) => x !== y));
          const { pValue } = wilcoxonSignedRank(a, b, { zeroMethod, correction });
          expect(pValue >= 0 && pValue <= 1).toBe(true);
        },
      ),
    );
  });

  it("documents its degenerate cases as typed errors", () => {
    expect(() => wilcoxonSignedRank([1, 2], [1, 2])).toThrow(
      'wilcoxonSignedRank: b: expected some non-zero difference a − b with zeroMethod "wilcox", got all zero',
    );
    // @ts-expect-error: an invalid zero method on purpose
    expect(() => wilcoxonSignedRank([1, 2], [0, 1], { zeroMethod: "drop" })).toThrow(
      'wilcoxonSignedRank: options.zeroMethod: expected "wilcox" | "pratt" | "zsplit", got "drop"',
    );
    // @ts-expect-error: an invalid flag on purpose
    expect(() => wilcoxonSignedRank([1, 2], [0, 1], { correction: "yes" })).toThrow(
      "wilcoxonSignedRank: options.correction: expected true or false, got yes",
    );
    const big = Array.from({ length: 1001 }, (_, i) => i + 1);
    expect(() => wilcoxonSignedRank(big, new Array(1001).fill(0), { method: "exact" })).toThrow(
      'wilcoxonSignedRank: options.method: expected "approx" for 1001 differences (exact needs n <= 1000), got "exact"',
    );
    expect(() => wilcoxonSignedRank([], [])).toThrow(
      "wilcoxonSignedRank: a: expected at least 1 value, got 0",
    );
  });
});
