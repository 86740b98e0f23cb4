import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tokenizerPath } from "./test-utils/sentences.js";
import { WordTokenizer } from "./tokenizer.js";
import { trainTokenizer } from "./training.js";
import { extendVocabulary } from "./vocabulary.js";

describe("error paths of tokenizer files", () => {
  it("rejects a post-processor whose special tokens are not in the vocabulary", () => {
    const json = JSON.parse(
      readFileSync(`${tokenizerPath("bert-base-multilingual-cased")}/tokenizer.json`, "utf8"),
    );
    json.post_processor.single[0].SpecialToken.id = "[BOS]";
    json.post_processor.special_tokens["[BOS]"] = { id: "[BOS]", ids: [1], tokens: ["[BOS]"] };
    expect(() => new WordTokenizer(json)).toThrow(
      'WordTokenizer: post_processor: expected special tokens in the vocabulary, got "[BOS]"',
    );
  });

  it("rejects a word that yields no token when there is no unknown token", () => {
    const { json } = trainTokenizer([["ab", "ab"]], { model: "bpe", vocabSize: 300 });
    json["normalizer"] = { type: "Replace", pattern: { String: "x" }, content: "" };
    const tokenizer = new WordTokenizer(json);
    expect(tokenizer.encodeWords(["ab"]).tokens).toEqual(["ab"]);
    expect(() => tokenizer.encodeWords(["ab", "xx"], { spaceBetweenWords: false })).toThrow(
      'encodeWords: words[1]: expected a word that gives at least one token, got "xx"',
    );
  });

  it("rejects extending a Unigram tokenizer whose added tokens lie beyond its vocabulary", () => {
    const json = JSON.parse(readFileSync(`${tokenizerPath("t5-small")}/tokenizer.json`, "utf8"));
    json.added_tokens.push({
      id: 40000,
      content: "<far>",
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    const t5 = new WordTokenizer(json);
    expect(() => extendVocabulary(t5, [["abcabc", "abcabc", "abcabc"]], { newTokens: 1 })).toThrow(
      "extendVocabulary: tokenizer.added_tokens: expected ids below the vocabulary size (32100), got id 40000",
    );
  });
});
