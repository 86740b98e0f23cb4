import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { padBatch, planBatches } from "./batching.js";

describe("padBatch", () => {
  it("pads to the longest as [batch, steps] int64 by default", () => {
    const batch = padBatch(
      [
        { ids: [101, 7, 102], labels: [-100, 3, -100] },
        { ids: [101, 102], labels: [-100, -100] },
      ],
      { padId: 0 },
    );
    expect(batch.inputIds.dims).toEqual([2, 3]);
    expect(batch.inputIds.type).toBe("int64");
    expect(Array.from(batch.inputIds.data)).toEqual([101n, 7n, 102n, 101n, 102n, 0n]);
    expect(Array.from(batch.attentionMask.data)).toEqual([1n, 1n, 1n, 1n, 1n, 0n]);
    expect(Array.from(batch.labels!.data)).toEqual([-100n, 3n, -100n, -100n, -100n, -100n]);
    expect(Array.from(batch.lengths)).toEqual([3, 2]);
  });

  it("writes int32 and pads to a multiple", () => {
    const batch = padBatch([{ ids: [5, 6, 7] }], { padId: 1, dtype: "int32", padToMultipleOf: 4 });
    expect(batch.inputIds.data).toBeInstanceOf(Int32Array);
    expect(Array.from(batch.inputIds.data)).toEqual([5, 6, 7, 1]);
    expect(batch.labels).toBeUndefined();
  });

  it("matches a brute-force nested-array padding (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 2, max: 1000 }), { maxLength: 9 }), { maxLength: 6 }),
        (seqs) => {
          const batch = padBatch(
            seqs.map((ids) => ({ ids, labels: ids.map((x) => x % 7) })),
            { padId: 0, dtype: "int32" },
          );
          const steps = Math.max(0, ...seqs.map((s) => s.length));
          const expected = seqs.flatMap((s) => [...s, ...new Array(steps - s.length).fill(0)]);
          expect(Array.from(batch.inputIds.data)).toEqual(expected);
          expect(batch.inputIds.dims).toEqual([seqs.length, steps]);
          const mask = seqs.flatMap((s) => [...s.map(() => 1), ...new Array(steps - s.length).fill(0)]);
          expect(Array.from(batch.attentionMask.data)).toEqual(mask);
        },
      ),
    );
  });

  it("rejects ids and labels the tensor would truncate, wrap or choke on, instead of writing them", () => {
    const int32 = "[-2147483648, 2147483647] (int32)";
    expect(() => padBatch([{ ids: [1, 2.5] }], { padId: 0 })).toThrow(
      "padBatch: items[0].ids[1]: expected an integer token id in [0, 9007199254740991] (int64), got 2.5",
    );
    expect(() => padBatch([{ ids: [1] }, { ids: [2 ** 31] }], { padId: 0, dtype: "int32" })).toThrow(
      "padBatch: items[1].ids[0]: expected an integer token id in [0, 2147483647] (int32), got 2147483648",
    );
    expect(() => padBatch([{ ids: [-1] }], { padId: 0 })).toThrow(
      "padBatch: items[0].ids[0]: expected an integer token id in [0, 9007199254740991] (int64), got -1",
    );
    expect(() => padBatch([{ ids: [1, 2], labels: [0, Number.NaN] }], { padId: 0, dtype: "int32" })).toThrow(
      `padBatch: items[0].labels[1]: expected an integer label in ${int32}, got NaN`,
    );
    expect(() => padBatch([{ ids: [1] }], { padId: 0, labelPad: 0.5 })).toThrow(
      "padBatch: options.labelPad: expected an integer in [-9007199254740991, 9007199254740991] (int64), got 0.5",
    );
    expect(() => padBatch([{ ids: [1] }], { padId: 2 ** 31, dtype: "int32" })).toThrow(
      "padBatch: options.padId: expected an integer token id in [0, 2147483647] (int32), got 2147483648",
    );
    // what used to happen: int32 quietly wrapped 2^31 to -2^31 and truncated 2.5 to 2
    expect(Array.from(Int32Array.from([2 ** 31, 2.5]))).toEqual([-(2 ** 31), 2]);
  });

  it("rejects bad input with typed errors", () => {
    expect(() => padBatch([{ ids: [1], labels: [] }], { padId: 0 })).toThrow(
      "padBatch: items[0].labels: expected one label per token (1), got 0",
    );
    expect(() => padBatch([], { padId: 0.5 })).toThrow(
      "padBatch: options.padId: expected an integer token id in [0, 9007199254740991] (int64), got 0.5",
    );
    expect(() => padBatch([], { padId: 0, dtype: "float32" as "int32" })).toThrow(
      'padBatch: options.dtype: expected "int64" or "int32", got "float32"',
    );
    expect(() => padBatch([], { padId: 0, padToMultipleOf: 0 })).toThrow(
      "padBatch: options.padToMultipleOf: expected an integer >= 1, got 0",
    );
  });
});

describe("planBatches", () => {
  const lengths = [5, 1, 9, 3, 3, 7, 2, 8, 4, 6];

  it("uses every index once, buckets by length, and is reproducible from its seed (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer(),
        (ls, size, seed) => {
          const batches = planBatches(ls, { batchSize: size, seed });
          expect(batches.flat().sort((a, b) => a - b)).toEqual(ls.map((_, i) => i));
          for (const b of batches) expect(b.length).toBeLessThanOrEqual(size);
          expect(planBatches(ls, { batchSize: size, seed })).toEqual(batches);
          const budget = planBatches(ls, { maxTokens: 100, seed });
          for (const b of budget)
            expect(b.length * Math.max(...b.map((i) => ls[i]!))).toBeLessThanOrEqual(100);
          expect(budget.flat().sort((a, b) => a - b)).toEqual(ls.map((_, i) => i));
        },
      ),
    );
  });

  it("keeps file order without a seed and buckets by length", () => {
    expect(planBatches(lengths, { batchSize: 3 })).toEqual([[1, 6, 3], [4, 8, 0], [9, 5, 7], [2]]);
    expect(planBatches(lengths, { batchSize: 4, bucket: false })).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(planBatches(lengths, { maxTokens: 12 })).toEqual([[1, 6, 3, 4], [8, 0], [9], [5], [7], [2]]);
  });

  it("rejects bad input with typed errors", () => {
    expect(() => planBatches(lengths, {})).toThrow(
      "planBatches: options: expected exactly one of batchSize and maxTokens, got neither",
    );
    expect(() => planBatches(lengths, { batchSize: 2, maxTokens: 9 })).toThrow(
      "planBatches: options: expected exactly one of batchSize and maxTokens, got both",
    );
    expect(() => planBatches(lengths, { batchSize: 0 })).toThrow(
      "planBatches: options.batchSize: expected an integer >= 1, got 0",
    );
    expect(() => planBatches(lengths, { maxTokens: -1 })).toThrow(
      "planBatches: options.maxTokens: expected an integer >= 1, got -1",
    );
    expect(() => planBatches(lengths, { maxTokens: 8 })).toThrow(
      "planBatches: lengths[2]: expected a sequence of at most maxTokens (8) tokens, got 9",
    );
    expect(() => planBatches([3, Number.NaN, 2], { maxTokens: 8 })).toThrow(
      "planBatches: lengths[1]: expected a length (an integer >= 0), got NaN",
    );
    expect(() => planBatches([3, -1], { batchSize: 2 })).toThrow(
      "planBatches: lengths[1]: expected a length (an integer >= 0), got -1",
    );
    expect(() => planBatches([2.5], { batchSize: 2 })).toThrow(
      "planBatches: lengths[0]: expected a length (an integer >= 0), got 2.5",
    );
    expect(() => planBatches(lengths, { batchSize: 2, seed: 1.5 })).toThrow(
      "planBatches: options.seed: expected an integer, got 1.5",
    );
  });
});
