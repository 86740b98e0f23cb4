import { loadCorpus, loadParallel } from "@xlt/data";
import rust from "tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { rustOracle } from "./test-utils/rust-oracle.js";
import { byteLevelAlphabet, type TrainableModel, trainTokenizer } from "./training.js";

let train: string[][] = [];
let heldOut: string[][] = [];
beforeAll(async () => {
  train = (await loadCorpus("ud/mt_mudt", "train")).map((s) => s.words);
  heldOut = (await loadCorpus("ud/mt_mudt", "dev")).slice(0, 60).map((s) => s.words);
  train.push(...(await loadParallel("tatoeba/fao")).map((p) => p.english.split(" ")));
});

describe.each<TrainableModel>(["wordpiece", "bpe"])("trainTokenizer %s", (model) => {
  it("reaches the vocabulary size and loads in Rust with the same encodings", async () => {
    const { json, tokenizer, added } = trainTokenizer(train, { model, vocabSize: 3000 });
    expect(tokenizer.vocabSize).toBe(3000);
    expect(added.length).toBeGreaterThan(1000);
    for (const piece of added) expect(tokenizer.tokenToId(piece.token)).toBe(piece.id);
    const theirs = rust.Tokenizer.fromString(JSON.stringify(json));
    expect(theirs.getVocabSize(true)).toBe(3000);
    for (const words of heldOut) {
      const got = tokenizer.encodeWords(words);
      const expected = await rustOracle(theirs, words);
      expect({ ids: got.ids, tokens: got.tokens, wordIds: got.wordIds }).toEqual({
        ids: expected.ids,
        tokens: expected.tokens,
        wordIds: expected.wordIds,
      });
    }
    // frequent words become single tokens
    expect(tokenizer.encodeWords(["il-"], { addSpecialTokens: false }).tokens.length).toBeLessThanOrEqual(2);
  });
});

describe("trainTokenizer", () => {
  it("uses GPT-2's byte alphabet", () => {
    const alphabet = byteLevelAlphabet();
    expect(alphabet).toHaveLength(256);
    expect(new Set(alphabet).size).toBe(256);
    expect(alphabet[32]).toBe("Ġ");
    expect(alphabet[65]).toBe("A");
    expect(alphabet[10]).toBe("Ċ");
  });

  it("rejects bad options with typed errors", () => {
    expect(() => trainTokenizer([], { model: "wordlevel" as TrainableModel, vocabSize: 10 })).toThrow(
      'trainTokenizer: options.model: expected "wordpiece", "bpe" or "unigram", got "wordlevel"',
    );
    expect(() => trainTokenizer([], { model: "bpe", vocabSize: 300, maxPieceLength: 4 })).toThrow(
      'trainTokenizer: options.maxPieceLength: expected undefined unless model is "unigram", got 4',
    );
    expect(() => trainTokenizer([], { model: "wordpiece", vocabSize: 5 })).toThrow(
      "trainTokenizer: options.vocabSize: expected an integer > 5, got 5",
    );
  });
});
