import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededPermutation, seededRandom, shuffled } from "./random.js";
import { loadCorpus } from "./registry.js";
import { firstN, kShot, resplit, sampleN, splitSizes } from "./splits.js";

describe("seeded randomness", () => {
  it("is reproducible and uniform enough", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(Array.from({ length: 10000 }, () => b())).toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });

  it("permutes (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer(), (n, seed) => {
        const p = seededPermutation(n, seed);
        expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(shuffled(p, seed)).toEqual(shuffled(p, seed));
      }),
    );
  });
});

describe("splits", () => {
  it("sizes parts by largest remainder (fast-check)", () => {
    expect(splitSizes(10, [0.8, 0.1, 0.1])).toEqual([8, 1, 1]);
    expect(splitSizes(7, [1, 1, 1])).toEqual([3, 2, 2]);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 1, maxLength: 5 }),
        (n, ratios) => {
          const sizes = splitSizes(n, ratios);
          expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
          const total = ratios.reduce((a, b) => a + b, 0);
          sizes.forEach((size, i) => {
            expect(Math.abs(size - (n * ratios[i]!) / total)).toBeLessThan(1);
          });
        },
      ),
    );
  });

  it("re-splits a corpus 80/10/10 reproducibly, losing nothing", async () => {
    const sentences = await loadCorpus("ud/hsb_ufal", "test");
    const [train, dev, test] = resplit(sentences, { ratios: [0.8, 0.1, 0.1], seed: 1 });
    expect([train!.length, dev!.length, test!.length]).toEqual([515, 65, 64]);
    expect(new Set([...train!, ...dev!, ...test!])).toEqual(new Set(sentences));
    expect(resplit(sentences, { ratios: [0.8, 0.1, 0.1], seed: 1 })).toEqual([train, dev, test]);
    expect(resplit(sentences, { ratios: [0.8, 0.1, 0.1], seed: 2 })[0]).not.toEqual(train);
  });

  it("truncates to the first N and samples N", () => {
    const items = ["a", "b", "c", "d"];
    expect(firstN(items, 2)).toEqual(["a", "b"]);
    expect(sampleN(items, 2, 5)).toEqual(sampleN(items, 2, 5));
    expect(sampleN(items, 4, 5)).toEqual(items);
    expect(() => firstN(items, 5)).toThrow("firstN: n: expected an integer in [0, 4], got 5");
    expect(() => sampleN(items, -1, 0)).toThrow("sampleN: n: expected an integer in [0, 4], got -1");
    expect(() => sampleN(items, 1, 0.5)).toThrow("sampleN: options.seed: expected an integer, got 0.5");
    expect(() => resplit(items, { ratios: [], seed: 0 })).toThrow(
      "splitSizes: ratios: expected one or more finite ratios >= 0, got []",
    );
    expect(() => resplit(items, { ratios: [0, 0], seed: 0 })).toThrow(
      "splitSizes: ratios: expected ratios with a positive sum, got [0, 0]",
    );
    expect(() => splitSizes(-1, [1])).toThrow("splitSizes: n: expected a non-negative integer, got -1");
  });

  it("draws k-shot samples that cover every class k times", async () => {
    const train = await loadCorpus("uner/da_ddt", "train");
    const sample = kShot(train, 5, { seed: 3 });
    expect(Object.keys(sample.counts)).toEqual(["LOC", "ORG", "PER"]);
    for (const count of Object.values(sample.counts)) expect(count).toBeGreaterThanOrEqual(5);
    // brute-force recount of the entity mentions in the chosen sentences
    const recount: Record<string, number> = {};
    for (const s of sample.sentences)
      for (const t of s.tags) if (t.startsWith("B-")) recount[t.slice(2)] = (recount[t.slice(2)] ?? 0) + 1;
    expect(recount).toEqual(sample.counts);
    expect(kShot(train, 5, { seed: 3 })).toEqual(sample);
    expect(sample.sentences.length).toBeLessThan(20);
    const hsb = await loadCorpus("ud/hsb_ufal", "test");
    const pos = kShot(hsb, 2, { seed: 1 });
    expect(Object.keys(pos.counts).sort()).toEqual([...new Set(hsb.flatMap((s) => s.tags))].sort());
    for (const count of Object.values(pos.counts)) expect(count).toBeGreaterThanOrEqual(2);
    expect(() => kShot(train, 0, { seed: 1 })).toThrow("kShot: k: expected an integer >= 1, got 0");
  });
});
