import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type MaskedCopy,
  maskedCopyBatches,
  type PseudoPerplexitySentence,
  pseudoPerplexity,
  pseudoPerplexityFromLogProbs,
} from "./pseudo-perplexity.js";

const V = 12; // toy vocabulary: ids 0..11; the mask id is 12, outside it
const MASK = V;
const SPECIALS = [0, 1]; // [CLS], [SEP]

/**
 * A toy masked LM with probabilities in closed form: p(v | copy) = (1 + c_v) / (V + n - 1), where c_v
 * counts v among the copy's visible tokens (all but the single masked one). It finds the mask itself,
 * so a copy with no mask or two would throw.
 */
function cacheModelScore(batch: readonly MaskedCopy[]): number[] {
  return batch.map((copy) => {
    const masked = copy.ids.flatMap((id, t) => (id === MASK ? [t] : []));
    if (masked.length !== 1 || masked[0] !== copy.position) throw new Error("expected exactly one mask");
    const visible = copy.ids.filter((id) => id !== MASK);
    const count = visible.filter((id) => id === copy.target).length;
    return Math.log((1 + count) / (V + copy.ids.length - 1));
  });
}

/** The same quantity by brute force on the unmasked sentences. */
function bruteForce(sentences: readonly PseudoPerplexitySentence[]): {
  pppl: number;
  n: number;
  plls: number[];
} {
  let total = 0;
  let n = 0;
  const plls = sentences.map(({ ids, specialTokensMask }) => {
    let pll = 0;
    ids.forEach((id, i) => {
      if (SPECIALS.includes(id) || specialTokensMask?.[i] === 1) return;
      const count = ids.filter((other, j) => j !== i && other === id).length;
      pll += Math.log((1 + count) / (V + ids.length - 1));
      n++;
    });
    total += pll;
    return pll;
  });
  return { pppl: Math.exp(-total / n), n, plls };
}

const sentenceArbitrary = fc
  .array(fc.integer({ min: 2, max: V - 1 }), { maxLength: 8 })
  .map((ids): PseudoPerplexitySentence => ({ ids: [0, ...ids, 1] }));

describe("pseudo-perplexity", () => {
  it("masks every real token once, in order, in batches of batchSize (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(sentenceArbitrary, { maxLength: 6 }),
        fc.integer({ min: 1, max: 7 }),
        (sentences, batchSize) => {
          const batches = [
            ...maskedCopyBatches(sentences, { maskId: MASK, specialIds: SPECIALS, batchSize }),
          ];
          for (const batch of batches.slice(0, -1)) expect(batch).toHaveLength(batchSize);
          const copies = batches.flat();
          const expected = sentences.flatMap(({ ids }, s) =>
            ids.flatMap((target, position) =>
              SPECIALS.includes(target)
                ? []
                : [{ sentence: s, position, target, ids: ids.map((id, t) => (t === position ? MASK : id)) }],
            ),
          );
          expect(copies).toEqual(expected);
        },
      ),
    );
  });

  it("matches the brute-force pseudo-perplexity of a toy model known in closed form (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(sentenceArbitrary, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        async (sentences, batchSize) => {
          fc.pre(sentences.some(({ ids }) => ids.length > 2));
          const result = await pseudoPerplexity(sentences, cacheModelScore, {
            maskId: MASK,
            specialIds: SPECIALS,
            batchSize,
          });
          const expected = bruteForce(sentences);
          expect(result.tokens).toBe(expected.n);
          expect(Math.abs(result.pseudoPerplexity - expected.pppl)).toBeLessThanOrEqual(
            1e-12 * expected.pppl,
          );
          result.sentencePll.forEach((pll, s) => {
            expect(Math.abs(pll - (expected.plls[s] ?? Number.NaN))).toBeLessThanOrEqual(1e-12);
          });
        },
      ),
    );
  });

  it("gives V for a uniform model, reads specialTokensMask, and awaits async scorers", async () => {
    const sentences = [
      { ids: [0, 5, 6, 7, 1], specialTokensMask: [1, 0, 0, 0, 1] },
      { ids: [0, 3, 4, 1], specialTokensMask: [1, 0, 1, 1] },
    ];
    const uniform = async (batch: readonly MaskedCopy[]) => batch.map(() => -Math.log(V));
    const result = await pseudoPerplexity(sentences, uniform, { maskId: MASK });
    expect(result.tokens).toBe(4);
    expect(result.pseudoPerplexity).toBeCloseTo(V, 12);
    expect(result.sentencePll[1]).toBeCloseTo(-Math.log(V), 12);
    expect(pseudoPerplexityFromLogProbs([Math.log(0.5), Math.log(0.125)])).toBeCloseTo(4, 12);
  });

  it("rejects bad options, masks and scores", async () => {
    expect(() => [...maskedCopyBatches([], { maskId: -1 })]).toThrow(
      "maskedCopyBatches: options.maskId: expected a token id (an integer >= 0), got -1",
    );
    expect(() => [...maskedCopyBatches([], { maskId: 3, batchSize: 0 })]).toThrow(
      "maskedCopyBatches: options.batchSize: expected an integer >= 1, got 0",
    );
    expect(() => [...maskedCopyBatches([{ ids: [2, 3], specialTokensMask: [0] }], { maskId: 3 })]).toThrow(
      "maskedCopyBatches: sentences[0].specialTokensMask: expected 2 entries like ids, got 1",
    );
    expect(() => pseudoPerplexityFromLogProbs([-1, 0.5])).toThrow(
      "pseudoPerplexityFromLogProbs: logProbs[1]: expected a finite log-probability <= 0, got 0.5",
    );
    expect(() => pseudoPerplexityFromLogProbs([])).toThrow(
      "pseudoPerplexityFromLogProbs: logProbs: expected at least one token, got 0",
    );
    const options = { maskId: MASK, specialIds: SPECIALS };
    await expect(pseudoPerplexity([{ ids: [2, 3] }], () => [-1], options)).rejects.toThrow(
      "pseudoPerplexity: score: expected 2 log-probabilities for the batch, got 1",
    );
    await expect(pseudoPerplexity([{ ids: [0, 2, 3] }], () => [-1, Number.NaN], options)).rejects.toThrow(
      "pseudoPerplexity: score (sentence 0, position 2): expected a finite log-probability <= 0, got NaN",
    );
    await expect(pseudoPerplexity([{ ids: [0, 1] }], () => [], options)).rejects.toThrow(
      "pseudoPerplexity: sentences: expected at least one real token, got 0",
    );
  });
});
