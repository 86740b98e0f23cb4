import { loadCorpus } from "@xlt/data";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { tokenizerPath } from "./test-utils/sentences.js";
import { WordTokenizer } from "./tokenizer.js";
import { encodeWindows, mergeWindowPredictions } from "./windows.js";

let bert: WordTokenizer;
let sentences: string[][] = [];
beforeAll(async () => {
  bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
  sentences = (await loadCorpus("ud/mt_mudt", "train")).slice(0, 40).map((s) => s.words);
});

describe("encodeWindows", () => {
  it("covers every word whole, within maxLength, with overlap, and merges back (fast-check over real sentences)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 39 }),
        fc.integer({ min: 12, max: 64 }),
        fc.integer({ min: 0, max: 9 }),
        (index, maxLength, stride) => {
          const words = sentences[index]!;
          const full = bert.encodeWords(words);
          const windows = encodeWindows(bert, words, { maxLength, stride });
          for (const win of windows) {
            expect(win.ids.length).toBeLessThanOrEqual(maxLength);
            expect(win.tokens[0]).toBe("[CLS]");
            expect(win.tokens.at(-1)).toBe("[SEP]");
            // each window's word tokens are exactly those of the full encoding
            const inside = full.wordIds.map((w, i) =>
              w !== null && w >= win.start && w < win.end ? full.ids[i] : -1,
            );
            expect(win.ids.slice(1, -1)).toEqual(inside.filter((id) => id !== -1));
          }
          expect(windows[0]!.start).toBe(0);
          expect(windows.at(-1)!.end).toBe(words.length);
          for (let k = 1; k < windows.length; k++) {
            expect(windows[k]!.start).toBeGreaterThan(windows[k - 1]!.start);
            expect(windows[k]!.start).toBeLessThanOrEqual(windows[k - 1]!.end);
          }
          // identity predictor: each token predicts its own word id; merging gives 0..n-1
          const predictions = windows.map((win) => win.wordIds.map((w) => w ?? -1));
          expect(mergeWindowPredictions(windows, predictions, words.length)).toEqual(words.map((_, i) => i));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("gives one window when the sentence fits, and shares context when it does not", () => {
    const words = ["Il-", "Qorti", "ċaħdet", "l-appell", "."];
    const one = encodeWindows(bert, words, { maxLength: 512 });
    expect(one).toHaveLength(1);
    expect(one[0]).toEqual({ ...bert.encodeWords(words), start: 0, end: 5 });
    const many = encodeWindows(bert, words, { maxLength: 8, stride: 2 });
    expect(many.map((w) => [w.start, w.end])).toEqual([
      [0, 3],
      [2, 5],
    ]);
    expect(encodeWindows(bert, [], { maxLength: 4 })).toEqual([
      { ...bert.encodeWords([]), start: 0, end: 0 },
    ]);
  });

  it("takes each word's prediction from the window where it has most context", () => {
    const words = ["a", "b", "c", "d"];
    const windows = encodeWindows(bert, words, { maxLength: 5, stride: 2, addSpecialTokens: false });
    expect(windows.map((w) => [w.start, w.end])).toEqual([[0, 4]]);
    const small = encodeWindows(bert, words, { maxLength: 3, stride: 2, addSpecialTokens: false });
    expect(small.map((w) => [w.start, w.end])).toEqual([
      [0, 3],
      [1, 4],
    ]);
    // window 0 predicts "x", window 1 "y": word 1 is central in window 0 (context 1 vs 0), word 2 in window 1
    const merged = mergeWindowPredictions(
      small,
      small.map((w, k) => w.ids.map(() => (k === 0 ? "x" : "y"))),
      4,
    );
    expect(merged).toEqual(["x", "x", "y", "y"]);
  });

  it("rejects bad input with typed errors", () => {
    expect(() => encodeWindows(bert, ["a"], { maxLength: 2 })).toThrow(
      "encodeWindows: options.maxLength: expected an integer > 2 (the special tokens), got 2",
    );
    expect(() => encodeWindows(bert, ["a"], { maxLength: 10, stride: 8 })).toThrow(
      "encodeWindows: options.stride: expected an integer in [0, 8), got 8",
    );
    expect(() => encodeWindows(bert, ["a", "Donaudampfschifffahrtsgesellschaft"], { maxLength: 4 })).toThrow(
      "encodeWindows: words[1]: expected a word of at most 2 tokens, got",
    );
    const windows = encodeWindows(bert, ["a", "b"], { maxLength: 3 });
    expect(() => mergeWindowPredictions(windows, [], 2)).toThrow(
      "mergeWindowPredictions: predictions: expected one array per window (2), got 0",
    );
    expect(() => mergeWindowPredictions(windows, [[1], [1]], 2)).toThrow(
      "mergeWindowPredictions: predictions[0]: expected one prediction per token (3), got 1",
    );
    expect(() => mergeWindowPredictions(windows.slice(0, 1), [[0, 0, 0]], 2)).toThrow(
      "mergeWindowPredictions: windows: expected a window holding word 1, got none",
    );
    expect(() =>
      mergeWindowPredictions(
        windows,
        [
          [0, 0, 0],
          [0, 0, 0],
        ],
        1,
      ),
    ).toThrow("mergeWindowPredictions: wordCount: expected more than word id 1, got 1");
    expect(() => mergeWindowPredictions(windows, [[], []], 1.5)).toThrow(
      "mergeWindowPredictions: wordCount: expected an integer >= 0, got 1.5",
    );
  });
});
