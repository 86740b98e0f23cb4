import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { padBatch } from "./batching.js";
import { causalLmExamples } from "./lm-batches.js";

const documentsArbitrary = fc.array(fc.array(fc.integer({ min: 3, max: 500 }), { maxLength: 12 }), {
  maxLength: 6,
});

describe("causalLmExamples", () => {
  it("packs the stream into rows that share one token, every token after the first a target once (fast-check)", () => {
    fc.assert(
      fc.property(documentsArbitrary, fc.integer({ min: 2, max: 7 }), (documents, blockSize) => {
        const rows = causalLmExamples(documents, { mode: "pack", blockSize, bosId: 1, eosId: 2 });
        const stream = documents.flatMap((document) => [1, ...document, 2]);
        // HF convention: the loss scores labels[1:] of each row; together they are the stream minus its first token.
        expect(rows.flatMap((row) => row.labels.slice(1))).toEqual(stream.slice(1));
        rows.forEach((row, r) => {
          expect(row.labels).toEqual(row.ids);
          expect(row.ids.length).toBeGreaterThanOrEqual(2);
          if (r < rows.length - 1) expect(row.ids).toHaveLength(blockSize);
          expect(row.ids).toEqual(stream.slice(r * (blockSize - 1), r * (blockSize - 1) + blockSize));
        });
      }),
    );
  });

  it("in pad mode keeps each document in its own rows (fast-check)", () => {
    fc.assert(
      fc.property(documentsArbitrary, fc.integer({ min: 2, max: 7 }), (documents, blockSize) => {
        const rows = causalLmExamples(documents, { mode: "pad", blockSize, eosId: 2 });
        const expected = documents.flatMap((document) => {
          const stream = [...document, 2];
          const out: { ids: number[]; labels: number[] }[] = [];
          for (let start = 0; start < stream.length - 1; start += blockSize - 1) {
            const ids = stream.slice(start, start + blockSize);
            out.push({ ids, labels: ids });
          }
          return out;
        });
        expect(rows).toEqual(expected);
      }),
    );
  });

  it("gives the documented rows for a small example, and -100 labels on padding with padBatch", () => {
    const documents = [[10, 11, 12], [20]];
    expect(causalLmExamples(documents, { mode: "pad", blockSize: 3, eosId: 2 })).toEqual([
      { ids: [10, 11, 12], labels: [10, 11, 12] },
      { ids: [12, 2], labels: [12, 2] },
      { ids: [20, 2], labels: [20, 2] },
    ]);
    const packed = causalLmExamples(documents, { mode: "pack", blockSize: 5, bosId: 1, eosId: 2 });
    expect(packed).toEqual([
      { ids: [1, 10, 11, 12, 2], labels: [1, 10, 11, 12, 2] },
      { ids: [2, 1, 20, 2], labels: [2, 1, 20, 2] },
    ]);
    const batch = padBatch(packed, { padId: 0, dtype: "int32" });
    expect(Array.from(batch.inputIds.data)).toEqual([1, 10, 11, 12, 2, 2, 1, 20, 2, 0]);
    expect(Array.from(batch.labels?.data ?? [])).toEqual([1, 10, 11, 12, 2, 2, 1, 20, 2, -100]);
    expect(Array.from(batch.attentionMask.data)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    const dropped = causalLmExamples(documents, {
      mode: "pack",
      blockSize: 5,
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
    expect(() => causalLmExamples([], { mode: "pack", blockSize: 1 })).toThrow(
      "causalLmExamples: options.blockSize: expected an integer >= 2, got 1",
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
