import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { SequenceTagger } from "./sequence-tagger.js";
import { WordVocabulary } from "./vocabulary.js";
import { embeddingFromVectors, parseVectors, readVectors } from "./word-vectors.js";

const VEC = "4 2\nthe 0.5 -1\nAnna 2 3.25\ncat 1e-3 7\nthe 9 9\n";

describe("word vectors", () => {
  it("parses .vec text with or without a header, keeping the first vector of a word", () => {
    const { dim, vectors } = parseVectors(VEC);
    expect(dim).toBe(2);
    expect([...vectors.keys()]).toEqual(["the", "Anna", "cat"]);
    expect(Array.from(vectors.get("the") as Float32Array)).toEqual([0.5, -1]);
    expect(Array.from(parseVectors("x 1 2 3\n").vectors.get("x") as Float32Array)).toEqual([1, 2, 3]);
    expect([...parseVectors(VEC, { limit: 2, keep: (w) => w !== "the" }).vectors.keys()]).toEqual(["Anna"]);
  });

  it("streams a file", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "xlt-vec-")), "v.vec");
    writeFileSync(path, VEC);
    const { vectors } = await readVectors(path, { keep: (w) => w === "cat" });
    expect([...vectors.keys()]).toEqual(["cat"]);
    expect(vectors.get("cat")?.[0]).toBeCloseTo(1e-3, 9);
  });

  it("fills an embedding table: vectors where known (lowercase fallback), zeros for padding", () => {
    const vocabulary = new WordVocabulary(["The", "dog", "Anna"]);
    const { weight, found } = embeddingFromVectors(vocabulary, parseVectors(VEC), { seed: 1 });
    expect(found).toBe(2);
    expect(Array.from(weight.subarray(0, 2))).toEqual([0, 0]);
    expect(Array.from(weight.subarray(4, 6))).toEqual([0.5, -1]);
    expect(Array.from(weight.subarray(8, 10))).toEqual([2, 3.25]);
    expect(weight[6]).not.toBe(0);
  });

  it("initialises a tagger's word embeddings", { timeout: 30_000 }, async () => {
    const sentences = [{ words: ["Anna", "cat"], tags: ["N", "N"] }];
    const tagger = SequenceTagger.create(sentences, {
      wordDim: 2,
      hidden: 2,
      charEncoder: "none",
      head: "softmax",
    });
    const session = await tagger.compile({
      learningRates: { embeddings: 0, lstm: 0, emission: 0, crf: 0 },
      wordVectors: parseVectors(VEC),
    });
    const table = session.parameters.get("encoder.words.weight") as Float32Array;
    expect(Array.from(table.subarray(tagger.words.id("Anna") * 2, tagger.words.id("Anna") * 2 + 2))).toEqual([
      2, 3.25,
    ]);
    await expect(
      tagger.compile({
        learningRates: { embeddings: 0, lstm: 0, emission: 0, crf: 0 },
        wordVectors: parseVectors("a 1 2 3"),
      }),
    ).rejects.toThrow(
      new HeadsError("SequenceTagger.compile", "options.wordVectors", "vectors of wordDim = 2", "dim 3"),
    );
  });

  it("errors name the line", () => {
    expect(() => parseVectors("2 3\na 1 2\n")).toThrow(
      new HeadsError("parseVectors", "line 2", "a word and 3 numbers", "2 numbers"),
    );
    expect(() => parseVectors("a 1 x\n")).toThrow('parseVectors: line 1: expected finite numbers, got "x"');
    expect(() => parseVectors("\n")).toThrow("parseVectors: text: expected at least one vector, got none");
    expect(() => parseVectors("a\n")).toThrow(
      "parseVectors: line 1: expected a word and some numbers, got 0 numbers",
    );
    expect(() => parseVectors(VEC, { limit: 0 })).toThrow(
      "parseVectors: options.limit: expected a positive integer, got 0",
    );
  });
});
