import { loadCorpus } from "@xlt/data";
import { describe, expect, it } from "vitest";
import { padBatch } from "./batching.js";
import { causalLmExamples } from "./lm-batches.js";
import { maskTokens } from "./lm-masking.js";
import { tokenizerPath } from "./test-utils/sentences.js";
import { loadTokenizer } from "./tokenizer.js";

describe("language-model data from real text", () => {
  it("masks mBERT encodings of Faroese whole word by whole word, never [CLS], [SEP] or padding", async () => {
    const tokenizer = loadTokenizer(tokenizerPath("bert-base-multilingual-cased"));
    const sentences = (await loadCorpus("ud/fo_farpahc", "train")).slice(0, 300).map((s) => s.words);
    const encodings = sentences.map((words) => tokenizer.encodeWords(words));
    const id = (token: string) => tokenizer.tokenToId(token) ?? -1;
    const specialIds = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"].map(id);
    const masked = maskTokens(encodings, {
      maskId: id("[MASK]"),
      randomRange: [0, tokenizer.vocabSize],
      specialIds,
      wholeWord: true,
      seed: 11,
    });
    let words = 0;
    let selectedWords = 0;
    masked.forEach((out, s) => {
      const { ids, wordIds } = encodings[s] ?? { ids: [], wordIds: [] };
      expect(out.labels[0]).toBe(-100);
      expect(out.labels.at(-1)).toBe(-100);
      const byWord = new Map<number, boolean[]>();
      wordIds.forEach((word, t) => {
        if (word === null) return;
        byWord.set(word, [...(byWord.get(word) ?? []), out.labels[t] === ids[t]]);
      });
      for (const flags of byWord.values()) {
        expect(new Set(flags).size).toBe(1);
        words++;
        if (flags[0]) selectedWords++;
      }
    });
    expect(words).toBeGreaterThan(3000);
    const sd = Math.sqrt(words * 0.15 * 0.85);
    expect(Math.abs(selectedWords - 0.15 * words)).toBeLessThanOrEqual(5 * sd);
    const batch = padBatch(masked.slice(0, 8), { padId: id("[PAD]") });
    const labels = Array.from(batch.labels?.data ?? [], Number);
    const mask = Array.from(batch.attentionMask.data, Number);
    labels.forEach((label, i) => {
      if (mask[i] === 0) expect(label).toBe(-100);
    });
  });

  it("packs GPT-2 encodings of Faroese text so that every token after the first is a target once", async () => {
    const tokenizer = loadTokenizer(tokenizerPath("gpt2"));
    const eos = tokenizer.tokenToId("<|endoftext|>") ?? -1;
    const sentences = (await loadCorpus("ud/fo_farpahc", "train")).slice(0, 50).map((s) => s.words);
    const documents = sentences.map((words) => tokenizer.encodeWords(words, { addSpecialTokens: false }).ids);
    const rows = causalLmExamples(documents, { mode: "pack", blockSize: 64, eosId: eos });
    const stream = documents.flatMap((ids) => [...ids, eos]);
    expect(rows.flatMap((row) => row.labels.slice(1))).toEqual(stream.slice(1));
    const batch = padBatch(rows, { padId: eos });
    expect(batch.inputIds.dims).toEqual([rows.length, 64]);
  });
});
