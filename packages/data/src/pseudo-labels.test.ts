import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type PseudoLabelCandidate, PseudoLabelSelector, quantile } from "./pseudo-labels.js";

const FIXTURE: { cases: { values: number[]; q: number; expected: number }[] } = JSON.parse(
  readFileSync(new URL("../fixtures/quantile.json", import.meta.url), "utf8"),
);

describe("quantile", () => {
  it("matches numpy.quantile (linear) on committed reference values", () => {
    for (const { values, q, expected } of FIXTURE.cases)
      expect(quantile(values, q)).toBeCloseTo(expected, 12);
  });

  it("rejects bad input", () => {
    expect(() => quantile([1], 2)).toThrow("quantile: q: expected a number in [0, 1], got 2");
    expect(() => quantile([], 0.5)).toThrow("quantile: values: expected at least one value, got none");
  });
});

const candidate = (
  word: string,
  tags: string[],
  confidence: number,
  entropy: number,
): PseudoLabelCandidate => ({
  words: tags.map((_, i) => `${word}${i}`),
  tags,
  confidence,
  entropy,
});

describe("PseudoLabelSelector", () => {
  it("keeps confident, low-entropy, not-all-O, new sentences after the delay, and reports each round", () => {
    const selector = new PseudoLabelSelector({ confidenceQuantile: 0.5, maxEntropy: 0.3, delay: 1 });
    const pool = [
      candidate("a", ["B-PER", "O"], 0.9, 0.1), // kept
      candidate("b", ["O", "O"], 0.95, 0.05), // all O
      candidate("c", ["B-LOC"], 0.8, 0.5), // entropy too high
      candidate("d", ["B-ORG"], 0.2, 0.1), // below the median confidence of a, c, d, e (0.5)
      candidate("e", ["B-ORG"], 0.1, 0.1), // below
    ];
    expect(selector.select(0, pool)).toEqual([]);
    const first = selector.select(1, pool);
    expect(first.map((c) => c.words[0])).toEqual(["a0"]);
    const second = selector.select(2, pool);
    expect(second).toEqual([]);
    expect(selector.rounds).toEqual([
      {
        epoch: 0,
        candidates: 5,
        threshold: Number.NaN,
        belowConfidence: 0,
        aboveEntropy: 0,
        allO: 0,
        duplicates: 0,
        added: 0,
      },
      {
        epoch: 1,
        candidates: 5,
        threshold: 0.5,
        belowConfidence: 2,
        aboveEntropy: 1,
        allO: 1,
        duplicates: 0,
        added: 1,
      },
      {
        epoch: 2,
        candidates: 5,
        threshold: 0.5,
        belowConfidence: 2,
        aboveEntropy: 1,
        allO: 1,
        duplicates: 1,
        added: 0,
      },
    ]);
    expect(selector.total).toBe(1);
  });

  it("takes the quantile over the sentences that are not all O (NER: the model is surest of all-O ones)", () => {
    const selector = new PseudoLabelSelector({ confidenceQuantile: 0.5 });
    const allO = Array.from({ length: 8 }, (_, i) => candidate(`o${i}`, ["O", "O"], 0.99 - i * 0.001, 0));
    const entities = [0.6, 0.7, 0.8, 0.9].map((p, i) => candidate(`e${i}`, ["B-PER", "O"], p, 0));
    // Over all 12 candidates the median would be 0.9845, above every sentence with an entity.
    const added = selector.select(0, [...allO, ...entities]);
    expect(added.map((c) => c.words[0])).toEqual(["e20", "e30"]);
    expect(selector.rounds[0]).toMatchObject({
      candidates: 12,
      allO: 8,
      threshold: 0.75,
      belowConfidence: 2,
    });
    // Nothing but all-O sentences: no threshold, nothing added.
    const only = new PseudoLabelSelector({ confidenceQuantile: 0.5 });
    expect(only.select(0, allO)).toEqual([]);
    expect(only.rounds[0]).toMatchObject({ allO: 8, threshold: Number.NaN, added: 0 });
  });

  it("keeps all-O sentences when told, and has no entropy filter by default", () => {
    const selector = new PseudoLabelSelector({ confidenceQuantile: 0, dropAllO: false });
    expect(selector.select(0, [candidate("a", ["O"], 0.5, 9)])).toHaveLength(1);
  });

  it("rejects bad input with typed errors", () => {
    expect(() => new PseudoLabelSelector({ confidenceQuantile: 1.5 })).toThrow(
      "PseudoLabelSelector: options.confidenceQuantile: expected a number in [0, 1], got 1.5",
    );
    expect(() => new PseudoLabelSelector({ confidenceQuantile: 0.5, delay: -1 })).toThrow(
      "PseudoLabelSelector: options.delay: expected an integer >= 0, got -1",
    );
    expect(() => new PseudoLabelSelector({ confidenceQuantile: 0.5, maxEntropy: Number.NaN })).toThrow(
      "PseudoLabelSelector: options.maxEntropy: expected a number, got NaN",
    );
    const selector = new PseudoLabelSelector({ confidenceQuantile: 0.5 });
    expect(() => selector.select(-1, [])).toThrow(
      "PseudoLabelSelector.select: epoch: expected an integer >= 0, got -1",
    );
    expect(() => selector.select(0, [{ words: ["a"], tags: [], confidence: 1, entropy: 0 }])).toThrow(
      "PseudoLabelSelector.select: candidates[0].tags: expected one tag per word (1), got 0",
    );
    expect(() => selector.select(0, [{ words: [], tags: [], confidence: Number.NaN, entropy: 0 }])).toThrow(
      "PseudoLabelSelector.select: candidates[0]: expected a finite confidence and a numeric entropy, got NaN, 0",
    );
  });
});
