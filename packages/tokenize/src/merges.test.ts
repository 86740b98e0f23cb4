import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LearnedMerge, learnMerges, type SymbolSequence } from "./merges.js";

/** Brute force: recount every pair from scratch before each merge. */
function naiveMerges(
  sequences: readonly SymbolSequence[],
  merges: number,
  minFrequency: number,
): LearnedMerge[] {
  let words = sequences.map((s) => [...s.symbols]);
  const out: LearnedMerge[] = [];
  while (out.length < merges) {
    const counts = new Map<string, number>();
    words.forEach((symbols, w) => {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0001${symbols[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + sequences[w]!.count);
      }
    });
    const best = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (best === undefined || best[1] < minFrequency) break;
    const [left, right] = best[0].split("\u0001") as [string, string];
    out.push({ left, right, token: left + right, count: best[1] });
    words = words.map((symbols) => {
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i += 1;
        } else merged.push(symbols[i]!);
      }
      return merged;
    });
  }
  return out;
}

describe("learnMerges", () => {
  it("learns the textbook example (Sennrich et al. 2016)", () => {
    const corpus = [
      { symbols: [..."low"], count: 5 },
      { symbols: [..."lower"], count: 2 },
      { symbols: [..."newest"], count: 6 },
      { symbols: [..."widest"], count: 3 },
    ];
    expect(learnMerges(corpus, { merges: 4 }).map((m) => m.token)).toEqual(["es", "est", "lo", "low"]);
  });

  it("matches a brute-force learner that recounts every pair (fast-check)", () => {
    const corpus = fc.array(
      fc.record({
        symbols: fc.array(fc.constantFrom("a", "b", "c", "ab", "##a"), { minLength: 1, maxLength: 8 }),
        count: fc.integer({ min: 1, max: 5 }),
      }),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(
        corpus,
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (sequences, merges, minFrequency) => {
          expect(learnMerges(sequences, { merges, minFrequency })).toEqual(
            naiveMerges(sequences, merges, minFrequency),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects bad options with typed errors", () => {
    expect(() => learnMerges([], { merges: -1 })).toThrow(
      "learnMerges: options.merges: expected an integer >= 0, got -1",
    );
    expect(() => learnMerges([], { merges: 1, minFrequency: 0 })).toThrow(
      "learnMerges: options.minFrequency: expected an integer >= 1, got 0",
    );
  });
});
