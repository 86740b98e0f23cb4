import { loadCorpus, loadParallel } from "@xlt/data";
import rust from "tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { rustOracle } from "./test-utils/rust-oracle.js";
import { TOKENIZERS, tokenizerPath } from "./test-utils/sentences.js";
import { WordTokenizer } from "./tokenizer.js";
import { extendVocabulary } from "./vocabulary.js";

let train: string[][] = [];
let heldOut: string[][] = [];
beforeAll(async () => {
  // Learn on Upper Sorbian raw text (Tatoeba), check on the Upper Sorbian treebank.
  train = (await loadParallel("tatoeba/hsb")).map((p) => p.text.split(" ").filter((w) => w !== ""));
  heldOut = (await loadCorpus("ud/hsb_ufal", "test")).slice(0, 80).map((s) => s.words);
});

const tokenCount = (tokenizer: WordTokenizer, sentences: string[][]): number =>
  sentences.reduce((n, words) => n + tokenizer.encodeWords(words, { addSpecialTokens: false }).ids.length, 0);

describe.each(TOKENIZERS)("extendVocabulary on %s", (name) => {
  it("adds pieces after every existing id, keeps old ids, lowers fertility, and loads in Rust with the same encodings", async () => {
    const original = WordTokenizer.fromFile(tokenizerPath(name));
    const { json, tokenizer, added } = extendVocabulary(original, train, { newTokens: 200 });
    expect(added.length).toBe(200);
    const firstNew = added[0]!.id;
    expect(added.map((a) => a.id)).toEqual(added.map((_, i) => firstNew + i));
    expect(firstNew).toBe(original.vocabSize);
    for (const a of added) {
      expect(original.tokenToId(a.token)).toBeUndefined();
      expect(tokenizer.tokenToId(a.token)).toBe(a.id);
    }
    for (const token of ["the", "##s", "Ġthe", "▁the", "[CLS]", "</s>"])
      expect(tokenizer.tokenToId(token)).toBe(original.tokenToId(token));
    expect(tokenCount(tokenizer, train)).toBeLessThan(tokenCount(original, train));
    expect(tokenCount(tokenizer, heldOut)).toBeLessThan(tokenCount(original, heldOut));
    // The Rust library loads the extended tokenizer.json and agrees token for token.
    const theirs = rust.Tokenizer.fromString(JSON.stringify(json));
    theirs.disableTruncation();
    for (const words of heldOut) {
      const got = tokenizer.encodeWords(words);
      const expected = await rustOracle(theirs, words);
      expect({ ids: got.ids, tokens: got.tokens, wordIds: got.wordIds }).toEqual({
        ids: expected.ids,
        tokens: expected.tokens,
        wordIds: expected.wordIds,
      });
    }
  });
});

describe("extendVocabulary", () => {
  it("adds nothing when asked for nothing, and rejects bad options", () => {
    const bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
    expect(extendVocabulary(bert, train, { newTokens: 0 }).added).toEqual([]);
    expect(() => extendVocabulary(bert, train, { newTokens: -1 })).toThrow(
      "extendVocabulary: options.newTokens: expected an integer >= 0, got -1",
    );
  });
});
