import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maskedPerplexity, perplexity } from "./perplexity.js";

describe("perplexity", () => {
  it("is exp of the mean NLL per real token", () => {
    expect(perplexity(0, 5)).toBe(1);
    expect(perplexity(10 * Math.log(4), 10)).toBeCloseTo(4, 12);
  });

  it("is uniform-model perplexity V when every token has probability 1/V", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 50000 }),
        fc.integer({ min: 1, max: 1000 }),
        (vocabulary, tokens) => {
          expect(perplexity(tokens * Math.log(vocabulary), tokens)).toBeCloseTo(vocabulary, 6);
        },
      ),
    );
  });

  it("ignores padding positions instead of averaging over them", () => {
    const nll = [1, 2, 3, 99, 99];
    const mask = [1, 1, 1, 0, 0];
    expect(maskedPerplexity(nll, mask)).toBeCloseTo(Math.exp(2), 12);
    expect(maskedPerplexity(nll, [true, true, true, false, false])).toBeCloseTo(Math.exp(2), 12);
  });

  it("equals perplexity of the summed real-token NLLs, padding never read", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 20, noNaN: true }), fc.boolean()), { minLength: 1 }),
        (entries) => {
          fc.pre(entries.some(([, keep]) => keep));
          const nll = entries.map(([value, keep]) => (keep ? value : Number.NaN));
          const mask = entries.map(([, keep]) => keep);
          let total = 0;
          let count = 0;
          for (const [value, keep] of entries) {
            if (!keep) continue;
            total += value;
            count++;
          }
          expect(maskedPerplexity(nll, mask)).toBe(perplexity(total, count));
          expect(maskedPerplexity(nll, mask)).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });

  it("rejects impossible inputs", () => {
    expect(() => perplexity(-1, 3)).toThrow("perplexity: totalNll: expected a finite number >= 0, got -1");
    expect(() => perplexity(1, 0)).toThrow("perplexity: tokenCount: expected an integer >= 1, got 0");
    expect(() => maskedPerplexity([1], [1, 0])).toThrow(
      "maskedPerplexity: mask: expected 1 entries like tokenNll, got 2",
    );
    expect(() => maskedPerplexity([1], [2])).toThrow(
      "maskedPerplexity: mask[0]: expected 0, 1, true or false, got 2",
    );
    expect(() => maskedPerplexity([Number.NaN], [1])).toThrow(
      "maskedPerplexity: tokenNll[0]: expected a finite number >= 0, got NaN",
    );
    expect(() => maskedPerplexity([0.5, -0.1, 2], [1, 1, 1])).toThrow(
      "maskedPerplexity: tokenNll[1]: expected a finite number >= 0, got -0.1",
    );
    expect(() => maskedPerplexity([1, -3], [1, 1])).toThrow(
      "maskedPerplexity: tokenNll[1]: expected a finite number >= 0, got -3",
    );
    expect(() => maskedPerplexity([1, Number.POSITIVE_INFINITY], [1, true])).toThrow(
      "maskedPerplexity: tokenNll[1]: expected a finite number >= 0, got Infinity",
    );
    expect(() => perplexity(Number.NaN, 3)).toThrow(
      "perplexity: totalNll: expected a finite number >= 0, got NaN",
    );
    expect(() => perplexity(Number.POSITIVE_INFINITY, 3)).toThrow(
      "perplexity: totalNll: expected a finite number >= 0, got Infinity",
    );
    expect(() => perplexity(JSON.parse('"1"'), 3)).toThrow(
      "perplexity: totalNll: expected a finite number >= 0, got 1",
    );
    expect(() => perplexity(1, 2.5)).toThrow("perplexity: tokenCount: expected an integer >= 1, got 2.5");
    expect(() => maskedPerplexity([1], [0])).toThrow(
      "maskedPerplexity: mask: expected at least one real token, got 0",
    );
  });
});
