import { MetricsError } from "./errors.js";

/** A sentence to score: token ids and, optionally, which of them are special (1) and never scored. */
export interface PseudoPerplexitySentence {
  readonly ids: readonly number[];
  readonly specialTokensMask?: readonly number[];
}

/** One masked copy of a sentence: the token at `position` replaced by the mask id. */
export interface MaskedCopy {
  /** Index of the sentence in the corpus. */
  readonly sentence: number;
  /** Position of the masked token. */
  readonly position: number;
  /** The original id at `position`: the model scores `log p(target | ids)`. */
  readonly target: number;
  /** The sentence's ids with `ids[position]` set to the mask id. */
  readonly ids: readonly number[];
}

export interface MaskedCopyOptions {
  /** Id of the mask token. */
  maskId: number;
  /** Ids that are never masked and scored (`[CLS]`, `[SEP]`, padding); the sentence's `specialTokensMask` adds to them. */
  specialIds?: readonly number[];
  /** Masked copies per batch (default 32). A batch may mix sentences. */
  batchSize?: number;
}

/** The corpus pseudo-perplexity and the pieces it is made of. */
export interface PseudoPerplexityResult {
  /** `exp(-Σ log p / N)` over all scored tokens of the corpus. */
  pseudoPerplexity: number;
  /** N: the number of scored (real) tokens. */
  tokens: number;
  /** Pseudo-log-likelihood of each sentence: the sum of its tokens' log-probabilities (0 with no real token). */
  sentencePll: number[];
}

/** Gives the model's `log p(copy.target | copy.ids)` (natural log) for each copy of a batch, in order. */
export type MaskedScorer = (batch: readonly MaskedCopy[]) => ArrayLike<number> | Promise<ArrayLike<number>>;

function checkOptions(fn: string, options: MaskedCopyOptions): { specials: Set<number>; batchSize: number } {
  if (!Number.isSafeInteger(options.maskId) || options.maskId < 0)
    throw new MetricsError(fn, "options.maskId", "a token id (an integer >= 0)", String(options.maskId));
  const batchSize = options.batchSize ?? 32;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new MetricsError(fn, "options.batchSize", "an integer >= 1", String(batchSize));
  return { specials: new Set(options.specialIds ?? []), batchSize };
}

/**
 * The masked copies pseudo-perplexity needs (Salazar et al. 2020, "Masked Language Model Scoring"):
 * for every real token of every sentence, a copy of the sentence with that token replaced by
 * `maskId`, yielded in batches of `batchSize` copies in corpus order (sentence by sentence, position by
 * position). Special tokens (`specialIds`, `specialTokensMask` 1) are neither masked nor scored.
 */
export function* maskedCopyBatches(
  sentences: readonly PseudoPerplexitySentence[],
  options: MaskedCopyOptions,
): Generator<MaskedCopy[], void, undefined> {
  const fn = "maskedCopyBatches";
  const { specials, batchSize } = checkOptions(fn, options);
  let batch: MaskedCopy[] = [];
  for (const [s, sentence] of sentences.entries()) {
    const { ids, specialTokensMask } = sentence;
    if (specialTokensMask !== undefined && specialTokensMask.length !== ids.length) {
      throw new MetricsError(
        fn,
        `sentences[${s}].specialTokensMask`,
        `${ids.length} entries like ids`,
        String(specialTokensMask.length),
      );
    }
    for (const [position, target] of ids.entries()) {
      if (specials.has(target) || specialTokensMask?.[position] === 1) continue;
      const masked = [...ids];
      masked[position] = options.maskId;
      batch.push({ sentence: s, position, target, ids: masked });
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Pseudo-perplexity from the log-probabilities (natural log, one per scored token of the whole
 * corpus): `exp(-Σ log p / N)`. Each must be finite and <= 0.
 */
export function pseudoPerplexityFromLogProbs(logProbs: ArrayLike<number>): number {
  const fn = "pseudoPerplexityFromLogProbs";
  let total = 0;
  for (let i = 0; i < logProbs.length; i++) {
    const value = logProbs[i];
    if (typeof value !== "number" || !Number.isFinite(value) || value > 0)
      throw new MetricsError(fn, `logProbs[${i}]`, "a finite log-probability <= 0", String(value));
    total += value;
  }
  if (logProbs.length === 0) throw new MetricsError(fn, "logProbs", "at least one token", "0");
  return Math.exp(-total / logProbs.length);
}

/**
 * Corpus pseudo-perplexity of a masked LM (Salazar et al. 2020): masks each real token in turn
 * ({@link maskedCopyBatches}), asks `score` for `log p(token | rest of the sentence)` batch by batch and
 * returns `PPPL = exp(-Σ_sentences PLL / N)`, where a sentence's PLL is the sum of its tokens'
 * log-probabilities and N counts the scored tokens of the whole corpus. The model is only reached
 * through `score`, so any masked LM (or a toy one in tests) fits.
 */
export async function pseudoPerplexity(
  sentences: readonly PseudoPerplexitySentence[],
  score: MaskedScorer,
  options: MaskedCopyOptions,
): Promise<PseudoPerplexityResult> {
  const fn = "pseudoPerplexity";
  const sentencePll = sentences.map(() => 0);
  const logProbs: number[] = [];
  for (const batch of maskedCopyBatches(sentences, options)) {
    const scores = await score(batch);
    if (scores?.length !== batch.length)
      throw new MetricsError(
        fn,
        "score",
        `${batch.length} log-probabilities for the batch`,
        String(scores?.length),
      );
    for (const [index, copy] of batch.entries()) {
      const value = scores[index];
      if (typeof value !== "number" || !Number.isFinite(value) || value > 0) {
        throw new MetricsError(
          fn,
          `score (sentence ${copy.sentence}, position ${copy.position})`,
          "a finite log-probability <= 0",
          String(value),
        );
      }
      sentencePll[copy.sentence] = (sentencePll[copy.sentence] ?? 0) + value;
      logProbs.push(value);
    }
  }
  if (logProbs.length === 0) throw new MetricsError(fn, "sentences", "at least one real token", "0");
  return { pseudoPerplexity: pseudoPerplexityFromLogProbs(logProbs), tokens: logProbs.length, sentencePll };
}
