import { describe, expect, it } from "vitest";
import { maskedBatch, specialIds } from "./pretrain.js";

const ids = { "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4 };

describe("masked-LM batches", () => {
  it("pad to the longest row, never select specials or padding, and label exactly the changed positions' originals", () => {
    const sequences = [
      [2, ...Array.from({ length: 40 }, (_, i) => 10 + i), 3],
      [2, 50, 51, 3],
    ];
    const batch = maskedBatch(sequences, ids, 100, 7);
    expect(batch.ids?.dims).toEqual([2, 42]);
    const input = Array.from(batch.ids?.data ?? [], Number);
    const labels = Array.from(batch.labels?.data ?? [], Number);
    const mask = Array.from(batch.mask?.data ?? [], Number);
    expect(mask.slice(42)).toEqual([1, 1, 1, 1, ...Array.from({ length: 38 }, () => 0)]);
    expect(input.slice(46)).toEqual(Array.from({ length: 38 }, () => 0));
    let selected = 0;
    for (const [row, sequence] of sequences.entries()) {
      for (let t = 0; t < 42; t += 1) {
        const label = labels[row * 42 + t] as number;
        const original = sequence[t];
        if (original === undefined || original <= 3) {
          expect(label).toBe(-100);
          continue;
        }
        if (label === -100) expect(input[row * 42 + t]).toBe(original);
        else {
          selected += 1;
          expect(label).toBe(original);
        }
      }
    }
    expect(selected).toBeGreaterThan(0);
    // The same seed gives the same batch.
    expect(Array.from(maskedBatch(sequences, ids, 100, 7).ids?.data ?? [], Number)).toEqual(input);
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
