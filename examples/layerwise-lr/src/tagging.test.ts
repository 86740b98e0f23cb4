import { describe, expect, it } from "vitest";
import { encodeTagged, scoreBatch, taggingBatch, taggingBatches, type WordEncoder } from "./tagging.js";

/** [CLS]=1, each word cut into pieces of two letters (ids 10 + letter code % 50), [SEP]=2. */
const pieces: WordEncoder = {
  encodeWords(words) {
    const ids = [1];
    const wordIds: (number | null)[] = [null];
    for (const [index, word] of words.entries()) {
      for (let start = 0; start < word.length; start += 2) {
        ids.push(10 + (word.charCodeAt(start) % 50));
        wordIds.push(index);
      }
    }
    ids.push(2);
    wordIds.push(null);
    const zeros = ids.map(() => 0);
    return {
      ids,
      tokens: ids.map(String),
      wordIds,
      attentionMask: ids.map(() => 1),
      specialTokensMask: zeros,
    };
  },
};

const tags = ["NOUN", "VERB", "DET"];

describe("tagging data", () => {
  it("labels each word's first subword and pads batches", () => {
    const [encoded] = encodeTagged(pieces, [{ words: ["dogs", "run"], tags: ["NOUN", "VERB"] }], tags, 64);
    expect(encoded?.wordIds).toEqual([null, 0, 0, 1, 1, null]);
    expect(encoded?.labels).toEqual([-100, 0, -100, 1, -100, -100]);
    expect(encoded?.gold).toEqual([0, 1]);
    const short = encodeTagged(pieces, [{ words: ["a"], tags: ["DET"] }], tags, 64)[0];
    const batch = taggingBatch([encoded!, short!], 0);
    expect(batch.ids?.dims).toEqual([2, 6]);
    expect(Array.from(batch.ids?.data ?? [], Number).slice(6)).toEqual([1, 10 + (97 % 50), 2, 0, 0, 0]);
    expect(Array.from(batch.mask?.data ?? [], Number)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(batch.labels?.data ?? [], Number).slice(6)).toEqual([-100, 2, -100, -100, -100, -100]);
    expect(taggingBatches([encoded!, short!, encoded!], [2, 0, 1], 2, 0).map((b) => b.ids?.dims)).toEqual([
      [2, 6],
      [1, 3],
    ]);
  });

  it("truncates long sentences, keeping the final special token, and scores cut words as wrong", () => {
    const [cut] = encodeTagged(
      pieces,
      [{ words: ["ab", "cd", "ef", "gh"], tags: ["NOUN", "VERB", "DET", "NOUN"] }],
      tags,
      4,
    );
    expect(cut?.ids).toEqual([1, 10 + (97 % 50), 10 + (99 % 50), 2]);
    expect(cut?.wordIds).toEqual([null, 0, 1, null]);
    // Logits favour tag 0 at word 0 (right) and tag 0 at word 1 (wrong); words 2 and 3 were cut.
    const logits = { data: Float32Array.from([0, 0, 0, 5, 0, 0, 5, 0, 0, 0, 0, 0]), dims: [1, 4, 3] };
    expect(scoreBatch([cut!], logits)).toEqual({ correct: 1, total: 4 });
  });

  it("rejects unknown tags and misshapen logits", () => {
    expect(() => encodeTagged(pieces, [{ words: ["x"], tags: ["ADJ"] }], tags, 8)).toThrow(
      'encodeTagged: sentences[0].tags: expected tags among NOUN VERB DET, got "ADJ"',
    );
    const [one] = encodeTagged(pieces, [{ words: ["x"], tags: ["DET"] }], tags, 8);
    expect(() => scoreBatch([one!], { data: new Float32Array(6), dims: [2, 1, 3] })).toThrow(
      "scoreBatch: logits: expected [1, steps, tags] logits, got [2, 1, 3] with 6 values",
    );
  });
});
