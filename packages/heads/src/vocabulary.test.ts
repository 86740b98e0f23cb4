import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { WordVocabulary } from "./vocabulary.js";

describe("WordVocabulary", () => {
  it("keeps frequent words, most frequent first, with padding 0 and unknown 1", () => {
    const vocabulary = WordVocabulary.fromSentences(
      [
        ["the", "cat", "The"],
        ["the", "dog"],
      ],
      { minCount: 2, lowercase: true },
    );
    expect(vocabulary.words).toEqual(["the"]);
    expect(vocabulary.size).toBe(3);
    expect(vocabulary.id("THE")).toBe(2);
    expect(vocabulary.id("cat")).toBe(WordVocabulary.UNK);
    const again = WordVocabulary.fromJSON(JSON.parse(JSON.stringify(vocabulary)));
    expect(again.id("the")).toBe(2);
    expect(WordVocabulary.fromSentences([["b", "a", "a"]]).words).toEqual(["a", "b"]);
  });

  it("errors name the argument", () => {
    expect(() => new WordVocabulary(["a", "a"])).toThrow(
      new HeadsError("WordVocabulary", "words", "distinct words", "1 repeats"),
    );
    expect(() => WordVocabulary.fromSentences([], { minCount: 0 })).toThrow(
      "WordVocabulary.fromSentences: options.minCount: expected an integer >= 1, got 0",
    );
  });
});
