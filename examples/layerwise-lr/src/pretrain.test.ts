import { HfEncoderModel } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { bertInitialValues, maskedBatch, specialIds } from "./pretrain.js";

const ids = { "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4 };

describe("masked-LM batches", () => {
  it("pad to the longest row and list the selected tokens (never specials or padding) with their originals", () => {
    const sequences = [
      [2, ...Array.from({ length: 40 }, (_, i) => 10 + i), 3],
      [2, 50, 51, 3],
    ];
    const batch = maskedBatch(sequences, ids, 100, 7);
    expect(batch.ids?.dims).toEqual([2, 42]);
    const input = Array.from(batch.ids?.data ?? [], Number);
    const mask = Array.from(batch.mask?.data ?? [], Number);
    expect(mask.slice(42)).toEqual([1, 1, 1, 1, ...Array.from({ length: 38 }, () => 0)]);
    expect(input.slice(46)).toEqual(Array.from({ length: 38 }, () => 0));
    const positions = Array.from(batch.positions?.data ?? [], Number);
    const targets = Array.from(batch.targets?.data ?? [], Number);
    expect(positions.length).toBeGreaterThan(0);
    expect(targets).toHaveLength(positions.length);
    for (const [k, position] of positions.entries()) {
      const original = sequences[Math.floor(position / 42)]?.[position % 42];
      expect(original).toBeGreaterThan(3);
      expect(targets[k]).toBe(original);
    }
    // Tokens not selected keep their ids; the same seed gives the same batch.
    const chosen = new Set(positions);
    for (const [row, sequence] of sequences.entries())
      for (const [t, id] of sequence.entries())
        if (!chosen.has(row * 42 + t)) expect(input[row * 42 + t]).toBe(id);
    expect(Array.from(maskedBatch(sequences, ids, 100, 7).ids?.data ?? [], Number)).toEqual(input);
    // Nothing selectable: one ignored target.
    const empty = maskedBatch([[2, 3]], ids, 100, 1);
    expect(Array.from(empty.targets?.data ?? [], Number)).toEqual([-100]);
  });

  it("initialise as BERT: matrices N(0, 0.02), LayerNorm gains 1, other vectors 0", () => {
    const model = new HfEncoderModel(
      {
        family: "bert",
        head: "masked-lm",
        vocabSize: 400,
        hidden: 32,
        layers: 1,
        heads: 2,
        intermediate: 64,
        maxPositions: 16,
        typeVocabSize: 2,
      },
      [],
    );
    const values = bertInitialValues(model, 3);
    const word = values.get("encoder.embeddings.word.weight") as Float32Array;
    const mean = word.reduce((sum, x) => sum + x, 0) / word.length;
    const std = Math.sqrt(word.reduce((sum, x) => sum + (x - mean) ** 2, 0) / word.length);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(new Set(values.get("encoder.layers.layer0.attentionNorm.weight"))).toEqual(new Set([1]));
    expect(new Set(values.get("encoder.embeddings.norm.weight"))).toEqual(new Set([1]));
    expect(new Set(values.get("encoder.layers.layer0.attention.query.bias"))).toEqual(new Set([0]));
    expect(new Set(values.get("head.bias"))).toEqual(new Set([0]));
  });

  it("need every special token", () => {
    expect(() => specialIds({ tokenToId: (token) => (token === "[MASK]" ? undefined : 1) })).toThrow(
      "specialIds: tokenizer: expected a [MASK] token, got none",
    );
    expect(
      specialIds({ tokenToId: (token) => ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].indexOf(token) }),
    ).toEqual(ids);
  });
});
