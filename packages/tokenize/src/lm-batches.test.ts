import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { padBatch } from "./batching.js";
import { causalLmExamples } from "./lm-batches.js";

const documentsArbitrary = fc.array(fc.array(fc.integer({ min: 3, max: 500 }), { maxLength: 12 }), {
  maxLength: 6,
});

describe("causalLmExamples", () => {
  it("packs the stream into rows whose labels are the next tokens, each token predicted once (fast-check)", () => {
    fc.assert(
      fc.property(documentsArbitrary, fc.integer({ min: 1, max: 7 }), (documents, blockSize) => {
        const rows = causalLmExamples(documents, { mode: "pack", blockSize, bosId: 1, eosId: 2 });
        const stream = documents.flatMap((document) => [1, ...document, 2]);
        expect(rows.flatMap((row) => row.ids)).toEqual(stream.slice(0, -1));
        expect(rows.flatMap((row) => row.labels)).toEqual(stream.slice(1));
        rows.forEach((row, r) => {
          expect(row.labels).toHaveLength(row.ids.length);
          if (r < rows.length - 1) expect(row.ids).toHaveLength(blockSize);
          const start = r * blockSize;
          row.ids.forEach((id, t) => {
            expect(id).toBe(stream[start + t]);
            expect(row.labels[t]).toBe(stream[start + t + 1]);
          });
        });
      }),
    );
  });

  it("in pad mode keeps each document in its own rows (fast-check)", () => {
    fc.assert(
      fc.property(documentsArbitrary, fc.integer({ min: 1, max: 7 }), (documents, blockSize) => {
        const rows = causalLmExamples(documents, { mode: "pad", blockSize, eosId: 2 });
        const expected = documents.flatMap((document) => {
          const stream = [...document, 2];
          const out: { ids: number[]; labels: number[] }[] = [];
          for (let start = 0; start < stream.length - 1; start += blockSize) {
            const end = Math.min(start + blockSize, stream.length - 1);
            out.push({ ids: stream.slice(start, end), labels: stream.slice(start + 1, end + 1) });
          }
          return out;
        });
        expect(rows).toEqual(expected);
      }),
    );
  });

  it("gives the documented rows for a small example, and -100 labels on padding with padBatch", () => {
    const documents = [[10, 11, 12], [20]];
    expect(causalLmExamples(documents, { mode: "pad", blockSize: 2, eosId: 2 })).toEqual([
      { ids: [10, 11], labels: [11, 12] },
      { ids: [12], labels: [2] },
      { ids: [20], labels: [2] },
    ]);
    const packed = causalLmExamples(documents, { mode: "pack", blockSize: 4, bosId: 1, eosId: 2 });
    expect(packed).toEqual([
      { ids: [1, 10, 11, 12], labels: [10, 11, 12, 2] },
      { ids: [2, 1, 20], labels: [1, 20, 2] },
    ]);
    const batch = padBatch(packed, { padId: 0, dtype: "int32" });
    expect(Array.from(batch.inputIds.data)).toEqual([1, 10, 11, 12, 2, 1, 20, 0]);
    expect(Array.from(batch.labels?.data ?? [])).toEqual([10, 11, 12, 2, 1, 20, 2, -100]);
    expect(Array.from(batch.attentionMask.data)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    const dropped = causalLmExamples(documents, {
      mode: "pack",
      blockSize: 4,
      bosId: 1,
      eosId: 2,
      dropLast: true,
    });
    expect(dropped).toEqual(packed.slice(0, 1));
    expect(causalLmExamples([[5], []], { mode: "pad", blockSize: 3 })).toEqual([]);
  });

  it("rejects bad documents and options", () => {
    expect(() => causalLmExamples(JSON.parse("{}"), { mode: "pack", blockSize: 2 })).toThrow(
      "causalLmExamples: documents: expected an array of id arrays, got object",
    );
    expect(() => causalLmExamples([], { mode: JSON.parse('"window"'), blockSize: 2 })).toThrow(
      'causalLmExamples: options.mode: expected "pack" or "pad", got "window"',
    );
    expect(() => causalLmExamples([], { mode: "pack", blockSize: 0 })).toThrow(
      "causalLmExamples: options.blockSize: expected an integer >= 1, got 0",
    );
    expect(() => causalLmExamples([], { mode: "pack", blockSize: 2, eosId: -1 })).toThrow(
      "causalLmExamples: options.eosId: expected a token id (an integer >= 0), got -1",
    );
    expect(() => causalLmExamples([JSON.parse("5")], { mode: "pack", blockSize: 2 })).toThrow(
      "causalLmExamples: documents[0]: expected an array of token ids, got 5",
    );
    expect(() => causalLmExamples([[1, 2.5]], { mode: "pad", blockSize: 2 })).toThrow(
      "causalLmExamples: documents[0][1]: expected a token id (an integer >= 0), got 2.5",
    );
  });
});
