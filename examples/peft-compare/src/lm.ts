import { perplexity, pseudoPerplexity } from "@xlt/metrics";
import type { Batch, StepSession } from "@xlt/runtime";
import { maskTokens, type WordTokenizer } from "@xlt/tokenize";
import type { Text } from "./data.js";
import { CompareError } from "./errors.js";

/** The special tokens a masked LM needs, under BERT's names (what `maskedBatch` of layerwise-lr takes). */
export type SpecialIds = Record<"[PAD]" | "[UNK]" | "[CLS]" | "[SEP]" | "[MASK]", number>;

const BERT_NAMES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;
const ROBERTA_NAMES = ["<pad>", "<unk>", "<s>", "</s>", "<mask>"] as const;

/** The ids of the special tokens in BERT's (`[MASK]`) or RoBERTa's (`<mask>`) spelling. */
export function specialTokenIds(tokenizer: Pick<WordTokenizer, "tokenToId">): SpecialIds {
  for (const names of [BERT_NAMES, ROBERTA_NAMES]) {
    const [pad, unk, cls, sep, mask] = names.map((name) => tokenizer.tokenToId(name));
    if (
      pad !== undefined &&
      unk !== undefined &&
      cls !== undefined &&
      sep !== undefined &&
      mask !== undefined
    )
      return { "[PAD]": pad, "[UNK]": unk, "[CLS]": cls, "[SEP]": sep, "[MASK]": mask };
  }
  throw new CompareError(
    "specialTokenIds",
    "tokenizer",
    `the tokens ${BERT_NAMES.join(" ")} or ${ROBERTA_NAMES.join(" ")}`,
    "neither set",
  );
}

/** Subword ids of sentences with the tokenizer's special tokens, cut to `maxTokens` (keeping the last). */
export function encodeText(
  tokenizer: { encodeWords(words: readonly string[]): { readonly ids: readonly number[] } },
  text: Text,
  maxTokens: number,
): number[][] {
  return text.map((words) => {
    const { ids } = tokenizer.encodeWords(words);
    return ids.length > maxTokens
      ? [...ids.slice(0, maxTokens - 1), ids[ids.length - 1] as number]
      : [...ids];
  });
}

/**
 * A batch of masked sequences: right-padded `ids` and bool `mask` `[batch, steps]`, and the predicted
 * tokens only: their flat positions `row · steps + t` and original ids (`positions`, `targets`,
 * `[selected]`). Padding is never a position. A batch with nothing to predict gets one ignored
 * target (-100), which the loss and {@link targetNll} skip.
 */
export function predictionBatch(
  masked: readonly { readonly ids: readonly number[]; readonly labels: readonly number[] }[],
  padId: number,
): Batch {
  const steps = Math.max(1, ...masked.map((sequence) => sequence.ids.length));
  const size = masked.length * steps;
  const ids = new BigInt64Array(size).fill(BigInt(padId));
  const mask = new Uint8Array(size);
  const positions: bigint[] = [];
  const targets: bigint[] = [];
  for (const [row, sequence] of masked.entries()) {
    for (const [t, id] of sequence.ids.entries()) {
      ids[row * steps + t] = BigInt(id);
      mask[row * steps + t] = 1;
      const label = sequence.labels[t] as number;
      if (label !== -100) {
        positions.push(BigInt(row * steps + t));
        targets.push(BigInt(label));
      }
    }
  }
  if (positions.length === 0) {
    positions.push(0n);
    targets.push(-100n);
  }
  const dims = [masked.length, steps];
  return {
    ids: { data: ids, dims },
    mask: { data: mask, dims },
    positions: { data: BigInt64Array.from(positions), dims: [positions.length] },
    targets: { data: BigInt64Array.from(targets), dims: [targets.length] },
  };
}

/**
 * The fixed masking held-out perplexity is measured with: `passes` independent draws of 15% of the
 * tokens (seeds `seed`, `seed + 1`, …), every drawn token replaced by the mask token (no 80/10/10
 * at evaluation), the same for every method and seed.
 */
export const EVALUATION_MASKING = { probability: 0.15, passes: 2, seed: 1000 } as const;

/**
 * The held-out masked-LM batches: {@link EVALUATION_MASKING} of `sequences`, in batches of
 * `batchSize` sequences. Special tokens and `[UNK]` are never predicted.
 */
export function evaluationBatches(
  sequences: readonly (readonly number[])[],
  special: SpecialIds,
  vocabSize: number,
  batchSize: number,
): Batch[] {
  const batches: Batch[] = [];
  for (let pass = 0; pass < EVALUATION_MASKING.passes; pass += 1) {
    const masked = maskTokens(
      sequences.map((ids) => ({ ids })),
      {
        maskId: special["[MASK]"],
        randomRange: [0, vocabSize],
        specialIds: [special["[PAD]"], special["[UNK]"], special["[CLS]"], special["[SEP]"]],
        probability: EVALUATION_MASKING.probability,
        maskRate: 1,
        randomRate: 0,
        seed: EVALUATION_MASKING.seed + pass,
      },
    );
    for (let start = 0; start < masked.length; start += batchSize)
      batches.push(predictionBatch(masked.slice(start, start + batchSize), special["[PAD]"]));
  }
  return batches;
}

/** Logits as a session returns them: `[selected, vocab]`. */
export interface Logits {
  readonly data: ArrayLike<number>;
  readonly dims: readonly number[];
}

/**
 * The summed negative log-likelihood (natural log, computed in float64 with a max-shifted
 * log-sum-exp) of each target under its row of `logits` `[selected, vocab]`, and the number of
 * targets; ignored targets (-100) are skipped.
 */
export function targetNll(logits: Logits, targets: ArrayLike<bigint>): { total: number; count: number } {
  const [rows, vocab] = logits.dims as [number, number];
  if (logits.dims.length !== 2 || rows !== targets.length || logits.data.length !== rows * vocab)
    throw new CompareError(
      "targetNll",
      "logits",
      `[${targets.length}, vocab] logits`,
      `[${logits.dims.join(", ")}] with ${logits.data.length} values`,
    );
  let total = 0;
  let count = 0;
  for (let row = 0; row < rows; row += 1) {
    const target = Number(targets[row]);
    if (target === -100) continue;
    if (!(Number.isInteger(target) && target >= 0 && target < vocab))
      throw new CompareError(
        "targetNll",
        `targets[${row}]`,
        `an id in [0, ${vocab}) or -100`,
        String(target),
      );
    const offset = row * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < vocab; v += 1) max = Math.max(max, logits.data[offset + v] as number);
    let sum = 0;
    for (let v = 0; v < vocab; v += 1) sum += Math.exp((logits.data[offset + v] as number) - max);
    total += max + Math.log(sum) - (logits.data[offset + target] as number);
    count += 1;
  }
  return { total, count };
}

function logitsOf(
  fn: string,
  outputs: Record<string, { readonly data: unknown; readonly dims: readonly number[] }>,
) {
  const logits = outputs.logits;
  if (!(logits?.data instanceof Float32Array || logits?.data instanceof Float64Array))
    throw new CompareError(
      fn,
      "session",
      "float logits from evalStep",
      logits ? String(logits.data) : "none",
    );
  return { data: logits.data, dims: logits.dims };
}

/**
 * Masked-LM perplexity on held-out batches: `exp(Σ NLL / N)` over the N predicted tokens of all
 * batches together (never a mean of per-batch perplexities; padding is never predicted).
 */
export async function heldOutPerplexity(
  session: Pick<StepSession, "evalStep">,
  batches: readonly Batch[],
): Promise<{ perplexity: number; tokens: number }> {
  let total = 0;
  let count = 0;
  for (const batch of batches) {
    const outputs = await session.evalStep(batch);
    const targets = batch.targets?.data;
    if (!(targets instanceof BigInt64Array))
      throw new CompareError("heldOutPerplexity", "batch.targets", "int64 targets", "none");
    const nll = targetNll(logitsOf("heldOutPerplexity", outputs), targets);
    total += nll.total;
    count += nll.count;
  }
  return { perplexity: perplexity(total, count), tokens: count };
}

/**
 * Pseudo-perplexity (Salazar et al. 2020) of held-out sequences: every token but the special ones
 * and `[UNK]` masked in turn, `exp(-Σ log p / N)` over all of them (`pseudoPerplexity` of
 * `@xlt/metrics`), in batches of `batchSize` masked copies.
 */
export async function heldOutPseudoPerplexity(
  session: Pick<StepSession, "evalStep">,
  sequences: readonly (readonly number[])[],
  special: SpecialIds,
  batchSize: number,
): Promise<{ pseudoPerplexity: number; tokens: number }> {
  const result = await pseudoPerplexity(
    sequences.map((ids) => ({ ids })),
    async (copies) => {
      const masked = copies.map((copy) => ({
        ids: copy.ids,
        labels: copy.ids.map((_, t) => (t === copy.position ? copy.target : -100)),
      }));
      const batch = predictionBatch(masked, special["[PAD]"]);
      const logits = logitsOf("heldOutPseudoPerplexity", await session.evalStep(batch));
      const vocab = logits.dims[1] as number;
      return copies.map((copy, row) => {
        const one = { data: logits.data.subarray(row * vocab, (row + 1) * vocab), dims: [1, vocab] };
        return -targetNll(one, [BigInt(copy.target)]).total;
      });
    },
    {
      maskId: special["[MASK]"],
      specialIds: [special["[PAD]"], special["[UNK]"], special["[CLS]"], special["[SEP]"]],
      batchSize,
    },
  );
  return { pseudoPerplexity: result.pseudoPerplexity, tokens: result.tokens };
}
