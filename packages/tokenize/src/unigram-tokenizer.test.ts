import { loadCorpus, loadParallel } from "@xlt/data";
import fc from "fast-check";
import rust from "tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { TokenizeError } from "./errors.js";
import { rustOracle } from "./test-utils/rust-oracle.js";
import type { WordTokenizer } from "./tokenizer.js";
import { trainTokenizer } from "./training.js";

let train: string[][] = [];
let heldOut: string[][] = [];
beforeAll(async () => {
  // Train on Upper Sorbian raw text (Tatoeba), check on the Upper Sorbian treebank.
  train = (await loadParallel("tatoeba/hsb")).map((p) => p.text.split(" ").filter((w) => w !== ""));
  heldOut = (await loadCorpus("ud/hsb_ufal", "test")).map((s) => s.words);
});

const tokenCount = (tokenizer: WordTokenizer, sentences: string[][]): number =>
  sentences.reduce((n, words) => n + tokenizer.encodeWords(words, { addSpecialTokens: false }).ids.length, 0);

describe("trainTokenizer unigram", () => {
  it("reaches the vocabulary size, encodes every training word without <unk>, and Rust encodes held-out text identically", async () => {
    const { json, tokenizer, added } = trainTokenizer(train, { model: "unigram", vocabSize: 1000 });
    expect(tokenizer.model).toBe("unigram");
    expect(tokenizer.vocabSize).toBe(1000);
    expect(added).toHaveLength(997);
    expect(tokenizer.tokenToId("<pad>")).toBe(0);
    expect(tokenizer.tokenToId("</s>")).toBe(1);
    expect(tokenizer.unkTokenId).toBe(2);
    for (const piece of added) expect(tokenizer.tokenToId(piece.token)).toBe(piece.id);
    for (const words of train) {
      expect(tokenizer.encodeWords(words).ids).not.toContain(tokenizer.unkTokenId);
    }
    const theirs = rust.Tokenizer.fromString(JSON.stringify(json));
    expect(theirs.getVocabSize(true)).toBe(1000);
    let words = 0;
    for (const sentence of heldOut) {
      const got = tokenizer.encodeWords(sentence);
      const expected = await rustOracle(theirs, sentence);
      expect({ ids: got.ids, tokens: got.tokens, wordIds: got.wordIds }).toEqual({
        ids: expected.ids,
        tokens: expected.tokens,
        wordIds: expected.wordIds,
      });
      words += sentence.length;
    }
    // Character-level baseline: the same trainer left with single characters only.
    const characters = trainTokenizer(train, { model: "unigram", vocabSize: 4 }).tokenizer;
    expect(characters.vocabSize).toBeGreaterThan(50);
    expect(tokenCount(tokenizer, heldOut) / words).toBeLessThan(
      0.9 * (tokenCount(characters, heldOut) / words),
    );
    // Frequent words become one piece.
    expect(tokenizer.encodeWords(["je"]).tokens).toEqual(["▁je"]);
  });

  it("is deterministic, places custom special and unknown tokens, and scores pieces as log-probabilities", () => {
    const options = {
      model: "unigram",
      vocabSize: 300,
      specialTokens: ["<s>", "</s>", "<mask>"],
      unkToken: "<UNK>",
      maxPieceLength: 6,
    } as const;
    const { json, tokenizer } = trainTokenizer(train, options);
    expect(trainTokenizer(train, options).json).toEqual(json);
    expect(tokenizer.vocabSize).toBe(300);
    expect(tokenizer.unkTokenId).toBe(3);
    // An unseen character is the unknown token (after the word's own "▁").
    expect(tokenizer.encodeWords(["Ω"]).ids).toEqual([tokenizer.tokenToId("▁"), 3]);
    const model = json["model"];
    expect(model).toMatchObject({ type: "Unigram", unk_id: 3 });
    const vocab = typeof model === "object" && model !== null && "vocab" in model ? model.vocab : [];
    const isPiece = (entry: unknown): entry is [string, number] =>
      Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "number";
    const pieces = Array.isArray(vocab) ? vocab.slice(4).filter(isPiece) : [];
    expect(pieces).toHaveLength(296);
    expect(pieces.every(([p, s]) => [...p].length <= 6 && Number.isFinite(s) && s < 0)).toBe(true);
    expect(pieces.map(([, s]) => s)).toEqual(pieces.map(([, s]) => s).sort((a, b) => b - a));
  });

  it("has exactly vocabSize entries, or every character plus the specials when those are more, or every substring when those are fewer", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.stringMatching(/^[a-eé]{1,6}$/), { minLength: 1, maxLength: 5 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 4, max: 60 }),
        (sentences, vocabSize) => {
          const { tokenizer } = trainTokenizer(sentences, { model: "unigram", vocabSize });
          const characters = new Set(sentences.flat().flatMap((w) => [..."▁", ...w]));
          const substrings = new Set<string>();
          for (const word of sentences.flat().map((w) => [..."▁", ...w]))
            for (let i = 0; i < word.length; i++)
              for (let j = i + 1; j <= word.length; j++) substrings.add(word.slice(i, j).join(""));
          const expected = Math.min(Math.max(vocabSize, characters.size + 3), substrings.size + 3);
          expect(tokenizer.vocabSize).toBe(expected);
          for (const words of sentences) expect(tokenizer.encodeWords(words).ids).not.toContain(2);
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it("rejects bad options with typed errors", () => {
    const bad = (options: Record<string, unknown>, message: string) => {
      const call = () => trainTokenizer([["a"]], { model: "unigram", vocabSize: 50, ...options });
      expect(call).toThrow(TokenizeError);
      expect(call).toThrow(message);
    };
    bad(
      { minFrequency: 2 },
      'trainTokenizer: options.minFrequency: expected undefined when model is "unigram", got 2',
    );
    bad({ vocabSize: 3 }, "trainTokenizer: options.vocabSize: expected an integer >= 4, got 3");
    bad({ vocabSize: 10.5 }, "trainTokenizer: options.vocabSize: expected an integer >= 4, got 10.5");
    bad(
      { specialTokens: ["<s>", "<s>"] },
      'trainTokenizer: options.specialTokens: expected an array of distinct non-empty strings, got ["<s>","<s>"]',
    );
    bad(
      { specialTokens: "<s>" },
      'trainTokenizer: options.specialTokens: expected an array of distinct non-empty strings, got "<s>"',
    );
    bad({ unkToken: "" }, 'trainTokenizer: options.unkToken: expected a non-empty string, got ""');
    bad({ maxPieceLength: 0 }, "trainTokenizer: options.maxPieceLength: expected an integer >= 1, got 0");
    bad({ numEmIterations: 0 }, "trainTokenizer: options.numEmIterations: expected an integer >= 1, got 0");
    bad({ seedSize: -1 }, "trainTokenizer: options.seedSize: expected an integer >= 0, got -1");
    bad(
      { shrinkingFactor: 1 },
      "trainTokenizer: options.shrinkingFactor: expected a number in (0, 1), got 1",
    );
    bad(
      { shrinkingFactor: Number.NaN },
      "trainTokenizer: options.shrinkingFactor: expected a number in (0, 1), got NaN",
    );
  });
});
