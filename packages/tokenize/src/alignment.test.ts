import { loadCorpus } from "@xlt/data";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AlignStrategy, alignLabels, wordPredictions } from "./alignment.js";
import { tokenizerPath } from "./test-utils/sentences.js";
import { WordTokenizer } from "./tokenizer.js";
import { encodeWindows } from "./windows.js";

// [CLS] Kjeld(1 piece) Christensen(3 pieces) går(2 pieces) [SEP]
const WORD_IDS = [null, 0, 1, 1, 1, 2, 2, null];

describe("alignLabels", () => {
  it("puts the label on the first subword only", () => {
    expect(alignLabels(WORD_IDS, ["B-PER", "I-PER", "O"])).toEqual([
      null,
      "B-PER",
      "I-PER",
      null,
      null,
      "O",
      null,
      null,
    ]);
  });

  it("puts the label on the last subword", () => {
    expect(alignLabels(WORD_IDS, ["B-PER", "I-PER", "O"], { strategy: "last" })).toEqual([
      null,
      "B-PER",
      null,
      null,
      "I-PER",
      null,
      "O",
      null,
    ]);
  });

  it("spreads labels over all subwords, turning continuation B-X into I-X", () => {
    expect(alignLabels(WORD_IDS, ["O", "B-PER", "O"], { strategy: "all" })).toEqual([
      null,
      "O",
      "B-PER",
      "I-PER",
      "I-PER",
      "O",
      "O",
      null,
    ]);
    expect(alignLabels(WORD_IDS, ["S-LOC", "S-PER", "E-ORG"], { strategy: "all" })).toEqual([
      null,
      "S-LOC",
      "B-PER",
      "I-PER",
      "E-PER",
      "I-ORG",
      "E-ORG",
      null,
    ]);
    expect(alignLabels(WORD_IDS, ["U-LOC", "U-PER", "L-ORG"], { strategy: "all" }).slice(1, 7)).toEqual([
      "U-LOC",
      "B-PER",
      "I-PER",
      "L-PER",
      "I-ORG",
      "L-ORG",
    ]);
    expect(alignLabels(WORD_IDS, ["NOUN", "PROPN", "VERB"], { strategy: "all" }).slice(1, 7)).toEqual([
      "NOUN",
      "PROPN",
      "PROPN",
      "PROPN",
      "VERB",
      "VERB",
    ]);
  });

  it("works on label ids with an ignore index and label names", () => {
    const names = ["O", "B-PER", "I-PER"];
    expect(alignLabels(WORD_IDS, [1, 2, 0])).toEqual([-100, 1, 2, -100, -100, 0, -100, -100]);
    expect(alignLabels(WORD_IDS, [0, 1, 0], { strategy: "all", labelNames: names, ignoreIndex: -1 })).toEqual(
      [-1, 0, 1, 2, 2, 0, 0, -1],
    );
  });

  it("rejects bad input with typed errors", () => {
    expect(() => alignLabels(WORD_IDS, ["O", "O"])).toThrow(
      "alignLabels: wordIds[5]: expected null or a word index in [0, 2), got 2",
    );
    expect(() => alignLabels([0, 1, 0], ["O", "O"])).toThrow(
      "alignLabels: wordIds[2]: expected word ids in order (>= 1), got 0",
    );
    expect(() => alignLabels([0, null, 0], ["O"])).toThrow(
      "alignLabels: wordIds[2]: expected the tokens of word 0 next to each other, got a gap",
    );
    expect(() => alignLabels([0], ["O"], { strategy: "middle" as AlignStrategy })).toThrow(
      'alignLabels: options.strategy: expected "first", "all" or "last", got "middle"',
    );
    expect(() => alignLabels([0, 0], [1], { strategy: "all" })).toThrow(
      'alignLabels: options.labelNames: expected label names with strategy "all" and label ids, got undefined',
    );
    expect(() => alignLabels([0, 0], [7], { labelNames: ["O"] })).toThrow(
      "alignLabels: wordLabels[0]: expected a label id (an integer >= 0, < 1) or ignoreIndex (-100), got 7",
    );
    expect(() => alignLabels([0, 0], [1], { strategy: "all", labelNames: ["O", "B-X"] })).toThrow(
      'alignLabels: options.labelNames: expected a label named "I-X", got none',
    );
    expect(() => alignLabels([0, 1], JSON.parse('["O", 1]'))).toThrow(
      "alignLabels: wordLabels: expected all strings or all label ids, got a mix",
    );
  });
});

describe("alignLabels never loses a label", () => {
  it("rejects word ids that leave a labelled word without a token (as after truncation)", () => {
    expect(() => alignLabels([null, 0, 1, null], ["B-PER", "I-PER", "B-LOC", "O"])).toThrow(
      "alignLabels: wordIds: expected a token for every word (word 2 has none; encode long sentences with encodeWindows), got tokens for 2 of 4 words",
    );
    expect(() => alignLabels([null, 1, null], [1, 0], { strategy: "last" })).toThrow(
      "alignLabels: wordIds: expected a token for every word (word 0 has none; encode long sentences with encodeWindows), got tokens for 1 of 2 words",
    );
    expect(() => alignLabels([null, null], ["O"])).toThrow("got tokens for 0 of 1 words");
  });

  it("aligns a long sentence window by window with encodeWindows, every label on exactly one token", async () => {
    const bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
    const { words, tags } = (await loadCorpus("uner/da_ddt", "dev")).reduce((a, b) =>
      b.words.length > a.words.length ? b : a,
    );
    const windows = encodeWindows(bert, words, { maxLength: 24, stride: 8 });
    expect(windows.length).toBeGreaterThan(2);
    expect(() => alignLabels(windows[1]?.wordIds ?? [], tags)).toThrow("alignLabels: wordIds:");
    const seen = new Array<number>(words.length).fill(0);
    for (const window of windows) {
      const local = window.wordIds.map((w) => (w === null ? null : w - window.start));
      const labels = alignLabels(local, tags.slice(window.start, window.end));
      labels.forEach((label, i) => {
        const w = window.wordIds[i];
        if (label === null || w === null || w === undefined) return;
        expect(label).toBe(tags[w]);
        seen[w] = (seen[w] ?? 0) + 1;
      });
    }
    expect(seen.every((n) => n >= 1)).toBe(true);
  });

  it("accepts only non-negative integer label ids, or exactly ignoreIndex", () => {
    const expected = (w: number, got: string, limit = "") =>
      `alignLabels: wordLabels[${w}]: expected a label id (an integer >= 0${limit}) or ignoreIndex (-100), got ${got}`;
    expect(() => alignLabels([null, 0, null], [1.5])).toThrow(expected(0, "1.5"));
    expect(() => alignLabels([null, 0, 1, null], [0, Number.NaN])).toThrow(expected(1, "NaN"));
    expect(() => alignLabels([null, 0, null], [-1])).toThrow(expected(0, "-1"));
    expect(() => alignLabels([0], [-1], { labelNames: ["O"] })).toThrow(expected(0, "-1", ", < 1"));
    expect(() => alignLabels([0], [1], { ignoreIndex: 0 })).toThrow(
      "alignLabels: options.ignoreIndex: expected a negative integer, got 0",
    );
    expect(() => alignLabels([0], [1], { ignoreIndex: -0.5 })).toThrow(
      "alignLabels: options.ignoreIndex: expected a negative integer, got -0.5",
    );
  });

  it("passes a word labelled ignoreIndex through to all its tokens", () => {
    expect(alignLabels(WORD_IDS, [1, -100, 0])).toEqual([-100, 1, -100, -100, -100, 0, -100, -100]);
    expect(
      alignLabels(WORD_IDS, [1, -1, 2], { strategy: "all", labelNames: NAMES, ignoreIndex: -1 }),
    ).toEqual([-1, 1, -1, -1, -1, 2, 2, -1]);
  });
});

describe("wordPredictions", () => {
  it("reads the first or last subword of each word", () => {
    const predictions = ["x", "B-PER", "I-PER", "O", "I-PER", "O", "B-LOC", "y"];
    expect(wordPredictions(WORD_IDS, predictions)).toEqual(["B-PER", "I-PER", "O"]);
    expect(wordPredictions(WORD_IDS, predictions, { strategy: "last" })).toEqual(["B-PER", "I-PER", "B-LOC"]);
    expect(wordPredictions(WORD_IDS, Float32Array.from([9, 1, 2, 3, 4, 5, 6, 9]))).toEqual([1, 2, 5]);
  });

  it("rebuilds word labels from subwords with strategy all", () => {
    const tokens = alignLabels(WORD_IDS, [2, 5, 6], { strategy: "all", labelNames: NAMES });
    expect(wordPredictions(WORD_IDS, tokens, { strategy: "all", labelNames: NAMES })).toEqual([2, 5, 6]);
  });

  it("rejects bad input with typed errors", () => {
    expect(() => wordPredictions(WORD_IDS, [1, 2])).toThrow(
      "wordPredictions: tokenPredictions: expected one prediction per token (8), got 2",
    );
    expect(() => wordPredictions([null, 1], [0, 0])).toThrow(
      "wordPredictions: wordIds: expected a token for word 0, got none",
    );
    expect(() => wordPredictions([0], [0], { strategy: "avg" as AlignStrategy })).toThrow(
      'wordPredictions: options.strategy: expected "first", "all" or "last", got "avg"',
    );
  });
});

const NAMES = [
  "O",
  "B-PER",
  "I-PER",
  "E-PER",
  "S-PER",
  "B-LOC",
  "I-LOC",
  "E-LOC",
  "S-LOC",
  "L-ORG",
  "U-ORG",
  "B-ORG",
  "I-ORG",
];
const LABEL = fc.constantFrom(...NAMES, "NOUN", "VERB");

/** Word ids with specials at both ends and 1..4 subwords per word. */
const encodingShape = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 12 }).map((pieces) => {
  const wordIds: (number | null)[] = [null];
  pieces.forEach((n, w) => {
    for (let k = 0; k < n; k++) wordIds.push(w);
  });
  wordIds.push(null);
  return { wordIds, words: pieces.length };
});

describe("round trip", () => {
  it("wordPredictions(alignLabels(labels)) gives the labels back for every strategy (fast-check)", () => {
    fc.assert(
      fc.property(
        encodingShape.chain((shape) =>
          fc.tuple(fc.constant(shape), fc.array(LABEL, { minLength: shape.words, maxLength: shape.words })),
        ),
        fc.constantFrom<AlignStrategy>("first", "last", "all"),
        ([shape, labels], strategy) => {
          const tokens = alignLabels(shape.wordIds, labels, { strategy });
          expect(wordPredictions(shape.wordIds, tokens, { strategy, wordCount: labels.length })).toEqual(
            labels,
          );
          const ids = labels.map((l) => [...NAMES, "NOUN", "VERB"].indexOf(l));
          const names = [...NAMES, "NOUN", "VERB"];
          const tokenIds = alignLabels(shape.wordIds, ids, { strategy, labelNames: names });
          expect(wordPredictions(shape.wordIds, tokenIds, { strategy, labelNames: names })).toEqual(ids);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("holds on real UNER sentences encoded with mBERT, and 'all' never leaves B- on a continuation", async () => {
    const bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
    const sentences = (await loadCorpus("uner/da_ddt", "dev")).slice(0, 200);
    for (const { words, tags } of sentences) {
      const { wordIds } = bert.encodeWords(words);
      for (const strategy of ["first", "last", "all"] as const) {
        const tokens = alignLabels(wordIds, tags, { strategy });
        expect(wordPredictions(wordIds, tokens, { strategy })).toEqual(tags);
        if (strategy === "all") {
          tokens.forEach((label, i) => {
            if (i > 0 && wordIds[i] !== null && wordIds[i] === wordIds[i - 1])
              expect(label?.startsWith("B-")).toBe(false);
          });
        }
      }
    }
  });
});
