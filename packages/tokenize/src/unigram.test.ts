import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CountedWord,
  expectedCounts,
  maximize,
  prunePieces,
  seedPieces,
  trainUnigramPieces,
  viterbi,
  withFloor,
} from "./unigram.js";

/** Every segmentation of `word` into pieces of `scores` (at most `maxLength` code points each). */
function segmentations(
  chars: readonly string[],
  scores: ReadonlyMap<string, number>,
  maxLength: number,
): string[][] {
  if (chars.length === 0) return [[]];
  const out: string[][] = [];
  for (let end = 1; end <= Math.min(maxLength, chars.length); end++) {
    const piece = chars.slice(0, end).join("");
    if (!scores.has(piece)) continue;
    for (const rest of segmentations(chars.slice(end), scores, maxLength)) out.push([piece, ...rest]);
  }
  return out;
}

/** Brute force: expected counts and log-likelihood by enumerating every segmentation. */
function bruteForce(words: readonly CountedWord[], scores: ReadonlyMap<string, number>, maxLength: number) {
  const counts = new Map<string, number>();
  let logLikelihood = 0;
  for (const { chars, count } of words) {
    const all = segmentations(chars, scores, maxLength);
    const weights = all.map((s) => Math.exp(s.reduce((sum, p) => sum + (scores.get(p) ?? 0), 0)));
    const z = weights.reduce((a, b) => a + b, 0);
    logLikelihood += count * Math.log(z);
    all.forEach((s, k) => {
      for (const p of s) counts.set(p, (counts.get(p) ?? 0) + (count * (weights[k] ?? 0)) / z);
    });
  }
  return { counts, logLikelihood };
}

/** Small corpora over a three-letter alphabet (plus `▁`), and a random piece set with random scores. */
const corpus = fc
  .array(
    fc.record({
      chars: fc.array(fc.constantFrom("▁", "a", "b", "c"), { minLength: 1, maxLength: 7 }),
      count: fc.integer({ min: 1, max: 5 }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((words) => {
    const seen = new Map<string, CountedWord>();
    for (const w of words) seen.set(w.chars.join(""), w);
    return [...seen.values()];
  });

const scored = corpus.chain((words) => {
  const substrings = new Set<string>();
  for (const { chars } of words)
    for (let i = 0; i < chars.length; i++)
      for (let j = i + 2; j <= Math.min(chars.length, i + 4); j++) substrings.add(chars.slice(i, j).join(""));
  const multi = [...substrings].sort();
  return fc
    .tuple(
      fc.subarray(multi),
      fc.array(fc.double({ min: -6, max: -0.1, noNaN: true }), {
        minLength: multi.length + 4,
        maxLength: multi.length + 4,
      }),
    )
    .map(([chosen, values]) => {
      const scores = new Map<string, number>();
      ["▁", "a", "b", "c", ...chosen].forEach((p, k) => {
        scores.set(p, values[k] ?? -1);
      });
      return { words, scores };
    });
});

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe("Unigram E-step", () => {
  it("equals brute-force enumeration of every segmentation", () => {
    fc.assert(
      fc.property(scored, ({ words, scores }) => {
        const got = expectedCounts(words, scores, 4);
        const expected = bruteForce(words, scores, 4);
        expect(close(got.logLikelihood, expected.logLikelihood)).toBe(true);
        for (const piece of scores.keys()) {
          expect(close(got.counts.get(piece) ?? 0, expected.counts.get(piece) ?? 0)).toBe(true);
        }
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it("gives the hand-computed counts for ▁ab with pieces ▁, a, b, ▁a, ab", () => {
    // Segmentations: ▁|a|b (0.1·0.2·0.3), ▁a|b (0.25·0.3), ▁|ab (0.1·0.15); Z = 0.006 + 0.075 + 0.015.
    const scores = new Map(
      Object.entries({ "▁": 0.1, a: 0.2, b: 0.3, "▁a": 0.25, ab: 0.15 }).map(([k, v]) => [k, Math.log(v)]),
    );
    const { counts, logLikelihood } = expectedCounts([{ chars: ["▁", "a", "b"], count: 2 }], scores, 2);
    const z = 0.006 + 0.075 + 0.015;
    expect(logLikelihood).toBeCloseTo(2 * Math.log(z), 12);
    expect(counts.get("▁a")).toBeCloseTo((2 * 0.075) / z, 12);
    expect(counts.get("ab")).toBeCloseTo((2 * 0.015) / z, 12);
    expect(counts.get("b")).toBeCloseTo((2 * (0.006 + 0.075)) / z, 12);
    expect(counts.get("▁")).toBeCloseTo((2 * (0.006 + 0.015)) / z, 12);
  });
});

describe("Unigram EM", () => {
  it("never lowers the corpus log-likelihood", () => {
    fc.assert(
      fc.property(scored, ({ words, scores }) => {
        let current = withFloor(scores);
        let previous = expectedCounts(words, current, 4).logLikelihood;
        for (let i = 0; i < 6; i++) {
          current = maximize(expectedCounts(words, current, 4).counts);
          const next = expectedCounts(words, current, 4).logLikelihood;
          expect(next).toBeGreaterThanOrEqual(previous - 1e-9 * Math.abs(previous));
          previous = next;
        }
      }),
      { numRuns: 100, seed: 6 },
    );
  });

  it("M-step and floor give probabilities that sum to 1", () => {
    const scores = maximize(
      new Map([
        ["a", 3],
        ["b", 1],
        ["ab", 0],
      ]),
    );
    expect(scores.get("a")).toBeCloseTo(Math.log(0.75), 12);
    expect(scores.get("ab")).toBe(Number.NEGATIVE_INFINITY);
    const floored = withFloor(scores);
    const total = [...floored.values()].reduce((s, v) => s + Math.exp(v), 0);
    expect(total).toBeCloseTo(1, 12);
    expect(Number.isFinite(floored.get("ab"))).toBe(true);
  });
});

describe("Unigram Viterbi and pruning", () => {
  it("Viterbi finds a segmentation of the highest score (brute force), and never uses the excluded piece", () => {
    fc.assert(
      fc.property(scored, ({ words, scores }) => {
        for (const { chars } of words) {
          const best = viterbi(chars, scores, 4) ?? [];
          const score = (s: string[]) => s.reduce((sum, p) => sum + (scores.get(p) ?? 0), 0);
          const top = Math.max(...segmentations(chars, scores, 4).map(score));
          expect(best.join("")).toBe(chars.join(""));
          expect(close(score(best), top)).toBe(true);
          const whole = chars.join("");
          if (chars.length > 1) expect(viterbi(chars, scores, 4, whole)).not.toContain(whole);
        }
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it("keeps every required piece and exactly `keep` pieces", () => {
    fc.assert(
      fc.property(scored, fc.integer({ min: 0, max: 30 }), ({ words, scores }, extra) => {
        const required = new Set(["▁", "a", "b", "c"]);
        const keep = Math.min(scores.size, required.size + extra);
        const kept = prunePieces(words, scores, required, keep, 4);
        expect(kept.size).toBe(keep);
        for (const r of required) expect(kept.has(r)).toBe(true);
      }),
      { numRuns: 100, seed: 8 },
    );
  });

  it("prunes the piece whose removal costs least: a rarely useful piece goes before a frequent word", () => {
    const words: CountedWord[] = [
      { chars: [..."▁abc"], count: 50 },
      { chars: [..."▁ca"], count: 1 },
    ];
    const scores = withFloor(seedPieces(words, 4, 100));
    const required = new Set([..."▁abc"]);
    const kept = prunePieces(words, scores, required, required.size + 1, 4);
    expect([...kept.keys()].filter((p) => !required.has(p))).toEqual(["▁abc"]);
  });

  it("seeds characters and the substrings with the highest frequency × length", () => {
    const seeds = seedPieces([{ chars: [..."▁aab"], count: 3 }], 3, 2);
    // Substrings (length 2-3) weigh 3 × length: ▁aa, aab = 9; ▁a, aa, ab = 6; the top two are kept.
    expect([...seeds.keys()].sort()).toEqual(["a", "aab", "b", "▁", "▁aa"].sort());
    expect([...seeds.values()].reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 12);
  });

  it("trains down to the requested number of pieces, deterministically", () => {
    const words: CountedWord[] = ["▁the", "▁then", "▁other", "▁there", "▁hen", "▁ten"].map((w, k) => ({
      chars: [...w],
      count: k + 1,
    }));
    const options = {
      pieces: 12,
      maxPieceLength: 5,
      shrinkingFactor: 0.75,
      numEmIterations: 2,
      seedSize: 1000,
    };
    const first = trainUnigramPieces(words, options);
    expect(first).toHaveLength(12);
    expect(trainUnigramPieces([...words].reverse(), options)).toEqual(first);
    for (const c of "▁theonr") expect(first.map((p) => p.piece)).toContain(c);
  });
});
