import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LinearChainCrf } from "./linear-chain-crf.js";
import { rng } from "./test-utils/random-case.js";

/** Textbook Viterbi: full scan over every previous tag, ties to the smallest index. */
function plainViterbi(K: number, T: number[][], start: number[], end: number[], e: number[][]) {
  let delta = start.map((s, j) => s + (e[0]?.[j] as number));
  const back: number[][] = [];
  for (let t = 1; t < e.length; t++) {
    const pointers: number[] = [];
    delta = Array.from({ length: K }, (_, j) => {
      let best = Number.NEGATIVE_INFINITY;
      let arg = 0;
      for (let i = 0; i < K; i++) {
        const value = (delta[i] as number) + (T[i]?.[j] as number);
        if (value > best) {
          best = value;
          arg = i;
        }
      }
      pointers.push(arg);
      return best + (e[t]?.[j] as number);
    });
    back.push(pointers);
  }
  let last = 0;
  let score = Number.NEGATIVE_INFINITY;
  delta.forEach((value, j) => {
    if (value + (end[j] as number) > score) {
      score = value + (end[j] as number);
      last = j;
    }
  });
  const path = [last];
  for (let t = back.length - 1; t >= 0; t--) path.unshift(back[t]?.[path[0] as number] as number);
  return { path, score };
}

describe("branch-and-bound Viterbi", () => {
  it("equals a plain full-scan Viterbi for many tags, on spread, peaked and tied scores", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom("spread", "peaked", "ties"),
        (seed, kind) => {
          const random = rng(seed);
          const K = 2 + Math.floor(random() * 40);
          const steps = 1 + Math.floor(random() * 30);
          // "ties": scores from a few integers, so equal candidates are common.
          const draw = (scale: number) =>
            kind === "ties" ? Math.floor(random() * 3) : (random() * 2 - 1) * scale;
          const T = Array.from({ length: K }, () => Array.from({ length: K }, () => draw(1)));
          const start = Array.from({ length: K }, () => draw(1));
          const end = Array.from({ length: K }, () => draw(1));
          const e = Array.from({ length: steps }, () => {
            const hot = Math.floor(random() * K);
            return Array.from({ length: K }, (_, j) => draw(3) + (kind === "peaked" && j === hot ? 8 : 0));
          });
          const crf = new LinearChainCrf({ numTags: K, transitions: T, start, end });
          const expected = plainViterbi(K, T, start, end, e);
          const actual = crf.decode([e]);
          expect(actual.paths[0]).toEqual(expected.path);
          expect(actual.scores[0]).toBe(expected.score);
        },
      ),
      { numRuns: 300 },
    );
  });
});
