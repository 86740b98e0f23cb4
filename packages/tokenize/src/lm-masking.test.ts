import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type MaskableSequence, maskTokens } from "./lm-masking.js";
import { seededRandom } from "./random.js";

const MASK = 4;
const SPECIALS = [0, 1, 2, 3]; // pad, cls, sep, unk
const base = { maskId: MASK, randomRange: [0, 1000] as const, specialIds: SPECIALS };

/** Sequences like `[CLS] w w … [SEP] [PAD] …` with word ids, special tokens masks and attention masks. */
const sequenceArbitrary = fc
  .array(fc.array(fc.integer({ min: 5, max: 999 }), { minLength: 1, maxLength: 3 }), { maxLength: 8 })
  .chain((words) => fc.tuple(fc.constant(words), fc.integer({ min: 0, max: 3 })))
  .map(([words, padding]): MaskableSequence => {
    const pieces = words.flatMap((word, w) => word.map((id) => [id, w] as const));
    const ids = [1, ...pieces.map(([id]) => id), 2, ...new Array<number>(padding).fill(0)];
    const wordIds = [null, ...pieces.map(([, w]) => w), null, ...new Array<null>(padding).fill(null)];
    return {
      ids,
      wordIds,
      specialTokensMask: ids.map((_, t) => (t === 0 || t === pieces.length + 1 ? 1 : 0)),
      attentionMask: ids.map((_, t) => (t < pieces.length + 2 ? 1 : 0)),
    };
  });

/** `count` successes of `n` draws lie within `z` binomial standard deviations of `n · p`. */
function expectBinomial(count: number, n: number, p: number, z = 5): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(count - n * p)).toBeLessThanOrEqual(z * sd);
}

/** Many random sentences of ids in [5, 1000) with `[CLS]`/`[SEP]` and padding. */
function corpus(sentences: number, seed: number): MaskableSequence[] {
  const random = seededRandom(seed);
  return Array.from({ length: sentences }, () => {
    const words = 1 + Math.floor(random() * 20);
    const ids = [1];
    const wordIds: (number | null)[] = [null];
    for (let w = 0; w < words; w++) {
      const pieces = 1 + Math.floor(random() * 3);
      for (let p = 0; p < pieces; p++) {
        ids.push(5 + Math.floor(random() * 995));
        wordIds.push(w);
      }
    }
    ids.push(2, 0, 0);
    wordIds.push(null, null, null);
    return { ids, wordIds, attentionMask: ids.map((id) => (id === 0 ? 0 : 1)) };
  });
}

describe("maskTokens", () => {
  it("labels only selected positions, with their original id, and leaves the others alone (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(sequenceArbitrary, { maxLength: 5 }),
        fc.integer(),
        fc.boolean(),
        (sequences, seed, wholeWord) => {
          const masked = maskTokens(sequences, { ...base, seed, probability: 0.5, wholeWord });
          expect(masked).toHaveLength(sequences.length);
          masked.forEach((out, s) => {
            const input = sequences[s] as MaskableSequence;
            expect(out.ids).toHaveLength(input.ids.length);
            out.labels.forEach((label, t) => {
              const original = input.ids[t] as number;
              if (label === -100) expect(out.ids[t]).toBe(original);
              else {
                expect(label).toBe(original);
                const id = out.ids[t] as number;
                expect(id === MASK || id === original || (id >= 5 && id < 1000)).toBe(true);
              }
              const special = SPECIALS.includes(original) || input.specialTokensMask?.[t] === 1;
              if (special || input.attentionMask?.[t] === 0) expect(label).toBe(-100);
            });
          });
        },
      ),
    );
  });

  it("with wholeWord selects all pieces of a word or none of them (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(sequenceArbitrary, { maxLength: 5 }), fc.integer(), (sequences, seed) => {
        const masked = maskTokens(sequences, { ...base, seed, probability: 0.4, wholeWord: true });
        masked.forEach((out, s) => {
          const wordIds = sequences[s]?.wordIds ?? [];
          const byWord = new Map<number, Set<boolean>>();
          wordIds.forEach((word, t) => {
            if (word === null) return;
            const set = byWord.get(word) ?? new Set<boolean>();
            set.add(out.labels[t] !== -100);
            byWord.set(word, set);
          });
          for (const set of byWord.values()) expect(set.size).toBe(1);
        });
      }),
    );
  });

  it("is reproducible from the seed and differs across seeds (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(sequenceArbitrary, { maxLength: 5 }),
        fc.integer(),
        fc.boolean(),
        (sequences, seed, wholeWord) => {
          const options = { ...base, seed, wholeWord };
          expect(maskTokens(sequences, options)).toEqual(maskTokens(sequences, options));
        },
      ),
    );
    const sentences = corpus(50, 1);
    expect(maskTokens(sentences, { ...base, seed: 1 })).not.toEqual(
      maskTokens(sentences, { ...base, seed: 2 }),
    );
  });

  it("selects 15% of real tokens and splits them 80/10/10, within binomial bounds, for fixed seeds", () => {
    for (const seed of [1, 2, 3]) {
      const sentences = corpus(4000, seed);
      const masked = maskTokens(sentences, { ...base, seed });
      let real = 0;
      let selected = 0;
      let masks = 0;
      let unchanged = 0;
      let randoms = 0;
      masked.forEach((out, s) => {
        const ids = sentences[s]?.ids ?? [];
        ids.forEach((id, t) => {
          if (id < 5) return;
          real++;
          if (out.labels[t] === -100) return;
          selected++;
          if (out.ids[t] === MASK) masks++;
          else if (out.ids[t] === id) unchanged++;
          else randoms++;
        });
      });
      expect(real).toBeGreaterThan(80_000);
      expectBinomial(selected, real, 0.15);
      expectBinomial(masks, selected, 0.8);
      // A random draw hits the original id with probability 1/995 (ids 5..999 are allowed).
      expectBinomial(unchanged, selected, 0.1 + 0.1 / 995);
      expectBinomial(randoms, selected, 0.1 - 0.1 / 995);
    }
  });

  it("selects 15% of words with wholeWord, within binomial bounds", () => {
    const sentences = corpus(4000, 9);
    const masked = maskTokens(sentences, { ...base, seed: 9, wholeWord: true, probability: 0.15 });
    let words = 0;
    let selected = 0;
    masked.forEach((out, s) => {
      const wordIds = sentences[s]?.wordIds ?? [];
      wordIds.forEach((word, t) => {
        if (word === null || wordIds[t - 1] === word) return; // first piece of each word
        words++;
        if (out.labels[t] !== -100) selected++;
      });
    });
    expect(words).toBeGreaterThan(30_000);
    expectBinomial(selected, words, 0.15);
  });

  it("draws random ids uniformly from the range minus the special ids", () => {
    const ids = new Array<number>(60_000).fill(7);
    const [out] = maskTokens([{ ids }], {
      maskId: 9,
      randomRange: [0, 10],
      specialIds: [0, 3],
      probability: 1,
      maskRate: 0,
      randomRate: 1,
      seed: 5,
    });
    const counts = new Map<number, number>();
    for (const id of out?.ids ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([1, 2, 4, 5, 6, 7, 8]);
    for (const count of counts.values()) expectBinomial(count, ids.length, 1 / 7);
  });

  it("honours custom rates, ignore index and the edge probabilities", () => {
    const sentences = corpus(20, 4);
    const none = maskTokens(sentences, { ...base, seed: 1, probability: 0, ignoreIndex: -1 });
    none.forEach((out, s) => {
      expect(out.ids).toEqual(sentences[s]?.ids);
      expect(out.labels.every((label) => label === -1)).toBe(true);
    });
    const all = maskTokens(sentences, { ...base, seed: 1, probability: 1, maskRate: 1, randomRate: 0 });
    all.forEach((out, s) => {
      (sentences[s]?.ids ?? []).forEach((id, t) => {
        expect(out.ids[t]).toBe(id < 5 ? id : MASK);
        expect(out.labels[t]).toBe(id < 5 ? -100 : id);
      });
    });
  });

  it("rejects bad options and sequences", () => {
    const one = [{ ids: [5, 6] }];
    expect(() => maskTokens(one, { ...base, seed: 1, maskId: -1 })).toThrow(
      "maskTokens: options.maskId: expected a token id (an integer >= 0), got -1",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, probability: 1.5 })).toThrow(
      "maskTokens: options.probability: expected a number in [0, 1], got 1.5",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, maskRate: 0.9, randomRate: 0.2 })).toThrow(
      "maskTokens: options.maskRate + options.randomRate: expected at most 1, got 1.1",
    );
    expect(() => maskTokens(one, { ...base, seed: 0.5 })).toThrow(
      "maskTokens: options.seed: expected an integer, got 0.5",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, ignoreIndex: Number.NaN })).toThrow(
      "maskTokens: options.ignoreIndex: expected an integer, got NaN",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, specialIds: [1.5] })).toThrow(
      "maskTokens: options.specialIds[0]: expected a token id (an integer >= 0), got 1.5",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, randomRange: [5, 5] })).toThrow(
      "maskTokens: options.randomRange: expected [low, high) with integers 0 <= low < high, got an array of length 2",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, randomRange: [3, 5] })).toThrow(
      "maskTokens: options.randomRange: expected at least one id that is not special, got [3, 5)",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, randomRange: [3, 5], randomRate: 0 })).not.toThrow();
    expect(() => maskTokens(JSON.parse("{}"), { ...base, seed: 1 })).toThrow(
      "maskTokens: sequences: expected an array, got object",
    );
    expect(() => maskTokens([{ ids: [5, -2] }], { ...base, seed: 1 })).toThrow(
      "maskTokens: sequences[0].ids[1]: expected a token id (an integer >= 0), got -2",
    );
    expect(() => maskTokens([{ ids: [5, 6], attentionMask: [1] }], { ...base, seed: 1 })).toThrow(
      "maskTokens: sequences[0].attentionMask: expected 2 entries like ids, got 1",
    );
    expect(() => maskTokens(one, { ...base, seed: 1, wholeWord: true })).toThrow(
      "maskTokens: sequences[0].wordIds: expected word ids (wholeWord is on), got none",
    );
  });
});
