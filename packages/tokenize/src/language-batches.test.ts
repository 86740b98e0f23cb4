import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { languageBatches } from "./language-batches.js";

const lengthsArbitrary = fc.dictionary(
  fc.constantFrom("en", "de", "fo", "da", "hsb"),
  fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 40 }),
  { minKeys: 1 },
);

describe("languageBatches", () => {
  it("gives one batch per language per step; the longest language once, smaller ones cycling in full passes (fast-check)", () => {
    fc.assert(
      fc.property(
        lengthsArbitrary,
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (lengths, batchSize, seed) => {
          const steps = languageBatches(lengths, { batchSize, seed });
          const languages = Object.keys(lengths);
          const counts = languages.map((language) => Math.ceil((lengths[language]?.length ?? 0) / batchSize));
          expect(steps).toHaveLength(Math.max(...counts));
          for (const step of steps) expect(step.map((batch) => batch.language)).toEqual(languages);
          languages.forEach((language, l) => {
            const n = lengths[language]?.length ?? 0;
            const mine = steps.map((step) => step[l]);
            const byPass = new Map<number, number[]>();
            for (const batch of mine) {
              expect(batch?.indices.length).toBeLessThanOrEqual(batchSize);
              byPass.set(batch?.pass ?? -1, [
                ...(byPass.get(batch?.pass ?? -1) ?? []),
                ...(batch?.indices ?? []),
              ]);
            }
            const passes = [...byPass.keys()].sort((a, b) => a - b);
            expect(passes).toEqual(passes.map((_, p) => p));
            passes.forEach((pass, p) => {
              const indices = byPass.get(pass) ?? [];
              const complete = p < passes.length - 1 || mine.length % (counts[l] ?? 1) === 0;
              if (complete) expect([...indices].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
              else expect(new Set(indices).size).toBe(indices.length);
            });
          });
        },
      ),
    );
  });

  it("stops at the shortest language with until: shortest, never cycling", () => {
    const lengths = { en: Array(50).fill(5), fo: Array(7).fill(5) };
    const steps = languageBatches(lengths, { batchSize: 4, seed: 3, until: "shortest" });
    expect(steps).toHaveLength(2);
    expect(steps.flat().every((batch) => batch.pass === 0)).toBe(true);
    const longest = languageBatches(lengths, { batchSize: 4, seed: 3 });
    expect(longest).toHaveLength(13);
    expect(longest.map((step) => step[1]?.pass)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  });

  it("is reproducible, and reshuffles each pass and each seed", () => {
    const lengths = { en: Array(200).fill(3), fo: Array(40).fill(3) };
    const a = languageBatches(lengths, { batchSize: 10, seed: 7 });
    expect(languageBatches(lengths, { batchSize: 10, seed: 7 })).toEqual(a);
    expect(languageBatches(lengths, { batchSize: 10, seed: 8 })).not.toEqual(a);
    const fo = (pass: number) =>
      a.flatMap((step) => (step[1]?.pass === pass ? (step[1]?.indices ?? []) : []));
    expect(fo(0)).toHaveLength(40);
    expect(fo(1)).not.toEqual(fo(0));
    expect([...fo(1)].sort((x, y) => x - y)).toEqual([...fo(0)].sort((x, y) => x - y));
  });

  it("plans token-budget batches bucketed by length", () => {
    const lengths = { en: [2, 9, 3, 8, 2, 9], de: [5, 5] };
    const steps = languageBatches(lengths, { maxTokens: 18, seed: 1 });
    for (const step of steps) {
      const en = step[0]?.indices ?? [];
      expect(en.length * Math.max(...en.map((i) => lengths.en[i] ?? 0))).toBeLessThanOrEqual(18);
    }
  });

  it("rejects bad lengths and options", () => {
    expect(() => languageBatches(JSON.parse("[]"), { batchSize: 2, seed: 1 })).toThrow(
      "languageBatches: lengths: expected an object of length arrays by language, got an array of length 0",
    );
    expect(() => languageBatches({}, { batchSize: 2, seed: 1 })).toThrow(
      "languageBatches: lengths: expected at least one language, got none",
    );
    expect(() => languageBatches({ en: [1] }, { batchSize: 2, seed: 1.5 })).toThrow(
      "languageBatches: options.seed: expected an integer, got 1.5",
    );
    expect(() => languageBatches({ en: [1] }, { batchSize: 2, seed: 1, until: JSON.parse('"all"') })).toThrow(
      'languageBatches: options.until: expected "longest" or "shortest", got "all"',
    );
    expect(() => languageBatches({ en: [1] }, { seed: 1 })).toThrow(
      "languageBatches: options: expected exactly one of batchSize and maxTokens, got neither",
    );
    expect(() => languageBatches({ en: [1] }, { batchSize: 2, maxTokens: 3, seed: 1 })).toThrow(
      "languageBatches: options: expected exactly one of batchSize and maxTokens, got both",
    );
    expect(() => languageBatches({ en: [1] }, { maxTokens: 0, seed: 1 })).toThrow(
      "languageBatches: options.maxTokens: expected an integer >= 1, got 0",
    );
    expect(() => languageBatches({ en: [1], fo: [] }, { batchSize: 2, seed: 1 })).toThrow(
      "languageBatches: lengths.fo: expected at least one sequence, got an array of length 0",
    );
    expect(() => languageBatches({ en: [1, -1] }, { batchSize: 2, seed: 1 })).toThrow(
      "planBatches: lengths[1]: expected a length (an integer >= 0), got -1",
    );
  });
});
