import type { Batch } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import {
  EVALUATION_MASKING,
  encodeText,
  evaluationBatches,
  heldOutPerplexity,
  heldOutPseudoPerplexity,
  predictionBatch,
  type SpecialIds,
  specialTokenIds,
  targetNll,
} from "./lm.js";

/** A batch tensor's values as a plain array. */
function entries(batch: Batch | undefined, name: string): (number | bigint)[] {
  const tensor = batch?.[name];
  if (!tensor) throw new Error(`the batch has no ${name}`);
  return Array.from(tensor.data as ArrayLike<number | bigint>);
}

const special: SpecialIds = { "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4 };

/** A session whose evalStep returns the given logits, batch after batch. */
function fakeSession(logits: readonly Float32Array[], vocab: number) {
  let call = 0;
  const seen: Batch[] = [];
  return {
    seen,
    evalStep: async (batch: Batch) => {
      seen.push(batch);
      const data = logits[call] as Float32Array;
      call += 1;
      return { logits: { data, dims: [data.length / vocab, vocab] } };
    },
  };
}

describe("targetNll and heldOutPerplexity", () => {
  // By hand: row 0 logits (0, 0, 0), target 1: p = 1/3; row 1 logits (0, ln 2, 0), target 1: p = 2/4.
  // Total NLL ln 3 + ln 2 = ln 6 over 2 tokens: perplexity exp(ln 6 / 2) = √6.
  const ln2 = Math.log(2);

  it("sums -log softmax at the targets in float64, skipping ignored targets", () => {
    const logits = { data: Float64Array.of(0, 0, 0, 0, ln2, 0, 9, 9, 9), dims: [3, 3] };
    const { total, count } = targetNll(logits, BigInt64Array.of(1n, 1n, -100n));
    expect(count).toBe(2);
    expect(total).toBeCloseTo(Math.log(6), 14);
    // Shifting a row's logits changes nothing (max-shifted log-sum-exp).
    const shifted = targetNll({ data: Float64Array.of(1000, 1000, 1000), dims: [1, 3] }, [2n]);
    expect(shifted.total).toBeCloseTo(Math.log(3), 12);
  });

  it("is exp(total NLL / predicted tokens) over all batches together, not a mean of batch perplexities", async () => {
    const session = fakeSession(
      [Float32Array.of(0, 0, 0), Float32Array.of(0, Math.fround(ln2), 0, 5, 5, 5)],
      3,
    );
    const batches: Batch[] = [
      { targets: { data: BigInt64Array.of(1n), dims: [1] } },
      { targets: { data: BigInt64Array.of(1n, -100n), dims: [2] } },
    ];
    const result = await heldOutPerplexity(session, batches);
    expect(result.tokens).toBe(2);
    expect(result.perplexity).toBeCloseTo(Math.sqrt(6), 6);
    // The mean of the two batches' perplexities (3 and 2) would be 2.5.
    expect(Math.abs(result.perplexity - 2.5)).toBeGreaterThan(0.05);
  });

  it("names bad logits, targets and outputs", async () => {
    expect(() => targetNll({ data: new Float32Array(6), dims: [3, 2] }, [0n, 0n])).toThrow(
      "targetNll: logits: expected [2, vocab] logits, got [3, 2] with 6 values",
    );
    expect(() => targetNll({ data: new Float32Array(4), dims: [2, 2] }, [0n, 2n])).toThrow(
      "targetNll: targets[1]: expected an id in [0, 2) or -100, got 2",
    );
    const noLogits = { evalStep: async () => ({}) };
    await expect(
      heldOutPerplexity(noLogits, [{ targets: { data: BigInt64Array.of(0n), dims: [1] } }]),
    ).rejects.toThrow("heldOutPerplexity: session: expected float logits from evalStep, got none");
    const session = fakeSession([Float32Array.of(0, 0)], 2);
    await expect(
      heldOutPerplexity(session, [{ ids: { data: BigInt64Array.of(1n), dims: [1, 1] } }]),
    ).rejects.toThrow("heldOutPerplexity: batch.targets: expected int64 targets, got none");
  });
});

describe("predictionBatch", () => {
  it("pads right, masks padding and lists only the predicted positions", () => {
    const batch = predictionBatch(
      [
        { ids: [2, 9, 4, 3], labels: [-100, -100, 7, -100] },
        { ids: [2, 4, 3], labels: [-100, 8, -100] },
      ],
      0,
    );
    expect(entries(batch, "ids")).toEqual([2n, 9n, 4n, 3n, 2n, 4n, 3n, 0n]);
    expect(entries(batch, "mask")).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    expect(entries(batch, "positions")).toEqual([2n, 5n]);
    expect(entries(batch, "targets")).toEqual([7n, 8n]);
  });

  it("gives one ignored target when nothing is predicted", () => {
    const batch = predictionBatch([{ ids: [2, 3], labels: [-100, -100] }], 0);
    expect(entries(batch, "positions")).toEqual([0n]);
    expect(entries(batch, "targets")).toEqual([-100n]);
  });
});

describe("evaluationBatches", () => {
  const sequences = Array.from({ length: 20 }, (_, s) => [
    2,
    ...Array.from({ length: 12 }, (_, t) => 5 + ((s * 7 + t) % 40)),
    3,
  ]);

  it("is the same fixed masking every time: every predicted token is the mask token, specials never", () => {
    const a = evaluationBatches(sequences, special, 50, 8);
    const b = evaluationBatches(sequences, special, 50, 8);
    expect(a).toEqual(b);
    expect(a).toHaveLength(EVALUATION_MASKING.passes * 3);
    let predicted = 0;
    for (const batch of a) {
      const ids = entries(batch, "ids");
      for (const position of entries(batch, "positions")) {
        expect(ids[Number(position)]).toBe(4n);
        predicted += 1;
      }
    }
    // About 15% of the 12 · 20 real tokens in each pass.
    expect(predicted / (EVALUATION_MASKING.passes * 240)).toBeGreaterThan(0.08);
    expect(predicted / (EVALUATION_MASKING.passes * 240)).toBeLessThan(0.25);
  });
});

describe("heldOutPseudoPerplexity", () => {
  it("is the vocabulary size under uniform predictions, over every non-special token", async () => {
    const vocab = 6;
    const logits: Float32Array[] = [
      new Float32Array(2 * vocab),
      new Float32Array(2 * vocab),
      new Float32Array(vocab),
    ];
    const session = fakeSession(logits, vocab);
    const result = await heldOutPseudoPerplexity(
      session,
      [
        [2, 5, 1, 5, 3],
        [2, 5, 5, 3],
      ],
      special,
      2,
    );
    // [UNK] (1) is not scored: 2 + 2 tokens, in batches of 2, 2.
    expect(result.tokens).toBe(4);
    expect(result.pseudoPerplexity).toBeCloseTo(vocab, 6);
    expect(session.seen).toHaveLength(2);
    expect(entries(session.seen[0], "ids")).toEqual([2n, 4n, 1n, 5n, 3n, 2n, 5n, 1n, 4n, 3n]);
  });
});

describe("heldOutPseudoPerplexity errors", () => {
  it("needs float logits from the session", async () => {
    await expect(
      heldOutPseudoPerplexity({ evalStep: async () => ({}) }, [[2, 5, 3]], special, 2),
    ).rejects.toThrow("heldOutPseudoPerplexity: session: expected float logits from evalStep, got none");
  });
});

describe("specialTokenIds and encodeText", () => {
  it("finds BERT's or RoBERTa's special tokens, or says which it looked for", () => {
    const bert = new Map([
      ["[PAD]", 0],
      ["[UNK]", 1],
      ["[CLS]", 2],
      ["[SEP]", 3],
      ["[MASK]", 4],
    ]);
    expect(specialTokenIds({ tokenToId: (token) => bert.get(token) })).toEqual(special);
    const roberta = new Map([
      ["<s>", 0],
      ["<pad>", 1],
      ["</s>", 2],
      ["<unk>", 3],
      ["<mask>", 50],
    ]);
    expect(specialTokenIds({ tokenToId: (token) => roberta.get(token) })).toEqual({
      "[PAD]": 1,
      "[UNK]": 3,
      "[CLS]": 0,
      "[SEP]": 2,
      "[MASK]": 50,
    });
    expect(() => specialTokenIds({ tokenToId: () => undefined })).toThrow(
      "specialTokenIds: tokenizer: expected the tokens [PAD] [UNK] [CLS] [SEP] [MASK] or <pad> <unk> <s> </s> <mask>, got neither set",
    );
  });

  it("cuts long sentences to maxTokens, keeping the final special token", () => {
    const tokenizer = {
      encodeWords: (words: readonly string[]) => ({ ids: [2, ...words.map((word) => word.length), 3] }),
    };
    expect(encodeText(tokenizer, [["a", "bb", "ccc"], ["dddd"]], 4)).toEqual([
      [2, 1, 2, 3],
      [2, 4, 3],
    ]);
  });
});
