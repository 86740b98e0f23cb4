import { type Batch, compile } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import {
  accuracyOf,
  baselineAccuracy,
  batches,
  buildVocabulary,
  datasetAccuracy,
  encode,
  INPUTS,
  WindowTagger,
} from "./tagger.js";

const sentences = [
  { words: ["the", "dog", "runs"], tags: ["DET", "NOUN", "VERB"] },
  { words: ["the", "cat", "runs"], tags: ["DET", "NOUN", "VERB"] },
  { words: ["a", "dog", "sleeps"], tags: ["DET", "NOUN", "VERB"] },
];

describe("window tagger data", () => {
  it("builds vocabularies and windows with padding and unknown words", () => {
    const vocabulary = buildVocabulary(sentences);
    expect([...vocabulary.words.keys()]).toEqual(["<pad>", "<unk>", "dog", "runs", "the"]);
    expect(vocabulary.tags).toEqual(["DET", "NOUN", "VERB"]);
    const examples = encode(vocabulary, [{ words: ["The", "cat"], tags: ["DET", "NOUN"] }]);
    // Windows of width 5: [pad, pad, the, cat→unk, pad] and [pad, the, unk, pad, pad].
    expect(Array.from(examples.windows, Number)).toEqual([0, 0, 4, 1, 0, 0, 4, 1, 0, 0]);
    expect(Array.from(examples.tags, Number)).toEqual([0, 1]);
    const [batch] = batches(examples, [1, 0], 8);
    expect(batch?.windows?.dims).toEqual([2, 5]);
    expect(Array.from(batch?.tags?.data ?? [], Number)).toEqual([1, 0]);
  });

  it("baseline and accuracy count what they should", () => {
    expect(baselineAccuracy(sentences, [{ words: ["dog", "unseen"], tags: ["NOUN", "DET"] }])).toBe(1);
    expect(accuracyOf(Float32Array.of(0, 1, 2, 5, 1, 0), BigInt64Array.of(2n, 1n), 3)).toBe(0.5);
  });

  it("datasetAccuracy counts every batch and throws on one without float32 logits", async () => {
    const vocabulary = buildVocabulary(sentences, 1);
    const examples = encode(vocabulary, sentences);
    // Logits that put the gold tag first: accuracy 1 over all 9 tokens.
    const right = {
      evalStep: async (batch: Batch) => {
        const gold = Array.from(batch.tags?.data ?? [], Number);
        const data = new Float32Array(gold.length * 3);
        for (const [row, tag] of gold.entries()) data[row * 3 + tag] = 1;
        return { logits: { data, dims: [gold.length, 3] } };
      },
    };
    expect(await datasetAccuracy(right, examples, 3)).toBe(1);
    const float64 = { evalStep: async () => ({ logits: { data: new Float64Array(27), dims: [9, 3] } }) };
    await expect(datasetAccuracy(float64, examples, 3)).rejects.toThrow(
      "datasetAccuracy: session: expected float32 logits of 27 values, got Float64Array of 27 values",
    );
    const missing = { evalStep: async () => ({}) };
    await expect(datasetAccuracy(missing, examples, 3)).rejects.toThrow(
      "datasetAccuracy: session: expected float32 logits of 27 values, got no logits",
    );
  });

  it("learns the toy corpus", async () => {
    const vocabulary = buildVocabulary(sentences, 1);
    const examples = encode(vocabulary, sentences);
    const model = new WindowTagger(vocabulary, { wordDim: 4, suffixDim: 2, hidden: 8 });
    const session = await compile(model, model.loss, {
      inputs: INPUTS,
      optimizer: { kind: "adamw" },
      groups: [{ name: "all", match: /./, lr: 0.05 }],
      seed: 1,
    });
    const [batch] = batches(examples, [0, 1, 2, 3, 4, 5, 6, 7, 8], 9);
    if (!batch) throw new Error("no batch");
    // Compared in evaluation mode: the training loss carries the dropout noise of each step's mask.
    const first = Number((await session.evalStep(batch)).loss?.data[0]);
    for (let step = 0; step < 30; step += 1) await session.trainStep(batch);
    const { loss, logits } = await session.evalStep(batch);
    expect(Number(loss?.data[0])).toBeLessThan(first / 10);
    expect(logits?.data instanceof Float32Array && accuracyOf(logits.data, examples.tags, 3)).toBe(1);
    await session.release();
  });
});
