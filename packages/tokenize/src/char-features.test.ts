import { describe, expect, it } from "vitest";
import { CharVocabulary } from "./char-features.js";

describe("CharVocabulary", () => {
  it("pads characters per word and words per sentence", () => {
    const vocab = CharVocabulary.fromWords([["ħa", "ż"], ["aż"]]);
    expect(vocab.chars).toEqual(["ħ", "a", "ż"]);
    expect(vocab.size).toBe(5);
    const batch = vocab.encodeBatch([["ħa", "ż"], ["aq"]]);
    expect(batch.dims).toEqual([2, 2, 2]);
    // [batch, words, chars]: ħa | ż_ ; aq(q unknown) | __
    expect(Array.from(batch.ids)).toEqual([2, 3, 4, 0, 3, 1, 0, 0]);
    expect(Array.from(batch.wordLengths)).toEqual([2, 1, 2, 0]);
    expect(Array.from(batch.sentenceLengths)).toEqual([2, 1]);
  });

  it("counts code points, not UTF-16 units, and cuts to maxChars only when asked", () => {
    const vocab = CharVocabulary.fromWords([["𝔸b"]]);
    expect(vocab.chars).toEqual(["𝔸", "b"]);
    expect(Array.from(vocab.encodeBatch([["𝔸bb"]], { maxChars: 2 }).ids)).toEqual([2, 3]);
    expect(CharVocabulary.fromWords([["aab"]], 2).chars).toEqual(["a"]);
    expect(CharVocabulary.fromJSON(vocab.toJSON()).chars).toEqual(vocab.chars);
  });

  it("rejects bad input with typed errors", () => {
    expect(() => new CharVocabulary(["ab"])).toThrow(
      'CharVocabulary: chars[0]: expected a single character, got "ab"',
    );
    expect(() => new CharVocabulary(["a", "a"])).toThrow(
      "CharVocabulary: chars: expected distinct characters, got repeats",
    );
    expect(() => CharVocabulary.fromWords([], 0)).toThrow(
      "CharVocabulary.fromWords: minCount: expected an integer >= 1, got 0",
    );
    expect(() => new CharVocabulary([]).encodeBatch([["a"]], { maxChars: -1 })).toThrow(
      "CharVocabulary.encodeBatch: options.maxChars: expected an integer >= 0, got -1",
    );
  });
});
