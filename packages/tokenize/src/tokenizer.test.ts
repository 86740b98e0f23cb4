import { readdirSync, readFileSync } from "node:fs";
import rust from "tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { rustOracle } from "./test-utils/rust-oracle.js";
import { type ScriptSample, scriptSamples, TOKENIZERS, tokenizerPath } from "./test-utils/sentences.js";
import { WordTokenizer } from "./tokenizer.js";

/** The second oracle, for input that is not running text: Rust encodes each word alone, then post-processes. */
async function rustPerWord(tokenizer: rust.Tokenizer, words: readonly string[]) {
  const encodings = await Promise.all(
    words.map((w) => tokenizer.encode(w, null, { addSpecialTokens: false })),
  );
  return {
    tokens: encodings.flatMap((e) => e.getTokens()),
    ids: encodings.flatMap((e) => e.getIds()),
    wordIds: encodings.flatMap((e, w) => e.getIds().map(() => w)),
  };
}

let samples: ScriptSample[] = [];
beforeAll(async () => {
  samples = await scriptSamples(60);
});

describe.each(TOKENIZERS)("encodeWords with %s matches the Rust tokenizers binding", (name) => {
  it("on real sentences in Latin (with diacritics), Cyrillic and Devanagari script", async () => {
    const ours = WordTokenizer.fromFile(tokenizerPath(name));
    const theirs = rust.Tokenizer.fromFile(`${tokenizerPath(name)}/tokenizer.json`);
    theirs.disableTruncation();
    let compared = 0;
    for (const sample of samples) {
      for (const words of sample.sentences) {
        if (words.some((w) => /\s/.test(w))) continue;
        const expected = await rustOracle(theirs, words);
        // Every compared word gets a token from Rust too: words that yield none (where encodeWords
        // deliberately departs from Rust, see below) are not part of this comparison.
        expect(new Set(expected.wordIds.filter((w) => w !== null)).size).toBe(words.length);
        const got = ours.encodeWords(words);
        expect({ sample: sample.name, ...got, attentionMask: undefined }).toEqual({
          sample: sample.name,
          ...expected,
          attentionMask: undefined,
        });
        compared += 1;
      }
    }
    expect(compared).toBe(samples.reduce((n, sample) => n + sample.sentences.length, 0));
  });
});

describe("the oracles themselves", () => {
  it("assign word ids from offsets as written out by hand", async () => {
    const bert = rust.Tokenizer.fromFile(`${tokenizerPath("bert-base-multilingual-cased")}/tokenizer.json`);
    expect(await rustOracle(bert, ["Hello", "wor-ld"])).toEqual({
      tokens: ["[CLS]", "Hello", "wo", "##r", "-", "l", "##d", "[SEP]"],
      ids: expect.any(Array),
      wordIds: [null, 0, 1, 1, 1, 1, 1, null],
      specialTokensMask: [1, 0, 0, 0, 0, 0, 0, 1],
    });
    const t5 = rust.Tokenizer.fromFile(`${tokenizerPath("t5-small")}/tokenizer.json`);
    const oracle = await rustOracle(t5, ["Ahoj", "мир"]);
    expect(oracle.tokens).toEqual(["▁Ah", "o", "j", "▁", "ми", "р", "</s>"]);
    expect(oracle.wordIds).toEqual([0, 0, 0, 1, 1, 1, null]);
  });
});

describe("encodeWords", () => {
  it("gives Ġ to non-initial words of a byte-level BPE by default, and not when told", async () => {
    const gpt2 = WordTokenizer.fromFile(tokenizerPath("gpt2"));
    expect(gpt2.encodeWords(["Hello", "naïve", "мир"]).tokens).toEqual([
      "Hello",
      "ĠnaÃ¯ve",
      "ĠÐ",
      "¼",
      "Ð¸",
      "ÑĢ",
    ]);
    const bare = gpt2.encodeWords(["Hello", "naïve", "мир"], { spaceBetweenWords: false });
    const theirs = rust.Tokenizer.fromFile(`${tokenizerPath("gpt2")}/tokenizer.json`);
    theirs.disableTruncation();
    expect({ tokens: bare.tokens, ids: bare.ids, wordIds: bare.wordIds }).toEqual(
      await rustPerWord(theirs, ["Hello", "naïve", "мир"]),
    );
    for (const words of samples.flatMap((s) => s.sentences.slice(0, 10))) {
      const got = gpt2.encodeWords(words, { spaceBetweenWords: false });
      expect({ tokens: got.tokens, ids: got.ids, wordIds: got.wordIds }).toEqual(
        await rustPerWord(theirs, words),
      );
    }
  });

  it("leaves special tokens out on request", () => {
    const bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
    const encoding = bert.encodeWords(["Ahoj", "světe"], { addSpecialTokens: false });
    expect(encoding.specialTokensMask.every((m) => m === 0)).toBe(true);
    expect(encoding.wordIds[0]).toBe(0);
    expect(bert.encodeWords([]).tokens).toEqual(["[CLS]", "[SEP]"]);
  });

  it("maps a word that yields no token to the unknown token, where the Rust binding emits nothing", async () => {
    const bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
    const rustBert = rust.Tokenizer.fromFile(
      `${tokenizerPath("bert-base-multilingual-cased")}/tokenizer.json`,
    );
    // zero-width space, soft hyphen, replacement character: BERT's normalizer drops all three
    for (const empty of ["\u200b", "\u00ad", "\ufffd", "\u200b\u00ad"]) {
      const encoding = bert.encodeWords(["a", empty, "b"]);
      expect(encoding.tokens).toEqual(["[CLS]", "a", "[UNK]", "b", "[SEP]"]);
      expect(encoding.ids).toEqual([101, 169, 100, 170, 102]);
      expect(encoding.wordIds).toEqual([null, 0, 1, 2, null]);
      const theirs = await rustOracle(rustBert, ["a", empty, "b"]);
      expect(theirs.tokens).toEqual(["[CLS]", "a", "b", "[SEP]"]);
      expect(theirs.wordIds).toEqual([null, 0, 2, null]);
    }
    const t5 = WordTokenizer.fromFile(tokenizerPath("t5-small"));
    const encoding = t5.encodeWords(["a", "\u200b", "b"]);
    expect(encoding.tokens).toEqual(["▁", "a", "<unk>", "▁", "b", "</s>"]);
    expect(encoding.wordIds).toEqual([0, 0, 1, 2, 2, null]);
    const rustT5 = rust.Tokenizer.fromFile(`${tokenizerPath("t5-small")}/tokenizer.json`);
    expect((await rustOracle(rustT5, ["a", "\u200b", "b"])).wordIds).toEqual([0, 0, 2, 2, null]);
  });

  it("knows the model, padding and unknown tokens", () => {
    const bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
    expect(bert.model).toBe("wordpiece");
    expect(bert.padTokenId).toBe(0);
    expect(bert.unkTokenId).toBe(100);
    expect(bert.vocabSize).toBe(119547);
    const t5 = WordTokenizer.fromFile(`${tokenizerPath("t5-small")}/tokenizer.json`);
    expect(t5.model).toBe("unigram");
    expect(t5.padTokenId).toBe(0);
    const gpt2 = WordTokenizer.fromFile(tokenizerPath("gpt2"));
    expect(gpt2.model).toBe("bpe");
    expect(gpt2.byteLevel).toBe(true);
    expect(gpt2.padTokenId).toBeUndefined();
  });

  it("rejects bad input with typed errors", () => {
    const bert = WordTokenizer.fromFile(tokenizerPath("bert-base-multilingual-cased"));
    expect(() => bert.encodeWords(["a", ""])).toThrow(
      'encodeWords: words[1]: expected a non-empty string, got ""',
    );
    expect(() => bert.encodeWords(JSON.parse('"a b"'))).toThrow(
      'encodeWords: words: expected an array of strings, got "a b"',
    );
    expect(() => WordTokenizer.fromFile("/nonexistent")).toThrow(
      'WordTokenizer.fromFile: path: expected a tokenizer.json file or a folder holding one, got "/nonexistent"',
    );
    expect(() => WordTokenizer.fromFile(new URL(".", import.meta.url).pathname)).toThrow(
      "WordTokenizer.fromFile: path: expected a folder holding tokenizer.json",
    );
    expect(() => new WordTokenizer({ model: { type: "WordLevel", vocab: {} } })).toThrow(
      'WordTokenizer: tokenizer.model: expected a WordPiece, BPE or Unigram model, got "WordLevel"',
    );
  });
});

describe("bundled tokenizer files and test fixtures", () => {
  const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");
  const list = (path: string): string[] => readdirSync(new URL(`../${path}`, import.meta.url)).sort();

  it("carry their license text beside them, and SOURCE files name exactly the files bundled", () => {
    const licenses = {
      "bert-base-multilingual-cased": "Apache License",
      gpt2: "Modified MIT License",
      "t5-small": "Apache License",
    };
    expect(list("tokenizers")).toEqual(["SOURCE-README.md", ...TOKENIZERS].sort());
    const overview = read("tokenizers/SOURCE-README.md");
    for (const name of TOKENIZERS) {
      expect(read(`tokenizers/${name}/LICENSE.txt`)).toContain(licenses[name]);
      const data = list(`tokenizers/${name}`).filter((f) => f !== "SOURCE.md" && f !== "LICENSE.txt");
      const source = read(`tokenizers/${name}/SOURCE.md`);
      const tableFiles = [...source.matchAll(/^\| `([^`]+)` +\|/gm)].map((m) => m[1]).sort();
      expect(tableFiles).toEqual(data);
      const row = overview.split("\n").find((line) => line.startsWith(`| \`${name}/\``)) ?? "";
      const files = row.split("|")[3] ?? "";
      expect([...files.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort()).toEqual(data);
    }
    expect(list("fixtures/ud")).toEqual([
      "SOURCE.md",
      "bho_bhtb-LICENSE.txt",
      "bho_bhtb-test-first150.conllu",
      "ru_gsd-LICENSE.txt",
      "ru_gsd-dev-first150.conllu",
    ]);
    const fixtures = read("fixtures/ud/SOURCE.md");
    for (const treebank of ["bho_bhtb", "ru_gsd"]) {
      expect(read(`fixtures/ud/${treebank}-LICENSE.txt`)).toContain("Attribution-ShareAlike 4.0");
      expect(fixtures).toContain(`copied as \`${treebank}-LICENSE.txt\``);
    }
    expect(fixtures).toContain("- Files: `bho_bhtb-test-first150.conllu` <-");
    expect(fixtures).toContain("- Files: `ru_gsd-dev-first150.conllu` <-");
  });
});
