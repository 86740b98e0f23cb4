import { planBatches } from "./batching.js";
import { show, TokenizeError } from "./errors.js";

/** When a multilingual epoch ends. */
export type LanguageEpoch = "longest" | "shortest";

export interface LanguageBatchOptions {
  /** Sequences per batch (give this or `maxTokens`), as in `planBatches`. */
  batchSize?: number;
  /** Most padded tokens per batch (give this or `batchSize`), as in `planBatches`. */
  maxTokens?: number;
  /** Group sequences of similar length within a language. Default true. */
  bucket?: boolean;
  /** Seed of every shuffle; each language and pass gets its own seed derived from it. */
  seed: number;
  /**
   * `"longest"` (default): the epoch lasts as many steps as the language with the most batches has
   * batches; languages that run out start a new, reshuffled pass over their data (they cycle).
   * `"shortest"`: the epoch ends when the language with the fewest batches runs out (no cycling;
   * the larger languages' remaining batches are left out of this epoch).
   */
  until?: LanguageEpoch;
}

/** One language's batch in a step. */
export interface LanguageBatch {
  language: string;
  /** Indices into that language's `lengths`. */
  indices: number[];
  /** Which pass over the language this batch belongs to (0 first; > 0 when it cycled). */
  pass: number;
}

const FN = "languageBatches";

/** A 31-bit seed for one language's pass, mixed from the run's seed (SplitMix-style finaliser). */
function passSeed(seed: number, language: number, pass: number): number {
  let z = (seed ^ Math.imul(language + 1, 0x9e3779b9) ^ Math.imul(pass + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 1;
}

/**
 * Per-language batching for multilingual pretraining (as MLMA does): every step holds one batch of
 * each language, in the order of `lengths`' keys, so the losses of all languages (and the alignment
 * losses between them) are taken in the same optimizer step. Within a language, batches are planned
 * by `planBatches` (fixed size or token budget, bucketed by length) and shuffled; each pass over a
 * language uses its own seed, derived from `seed`, the language's position and the pass number. See
 * `until` for what happens when languages have different numbers of batches. Use `seed + epoch`
 * for a new order each epoch.
 *
 * @param lengths sequence lengths per language, e.g. `{ en: [12, 7, …], fo: [9, …] }`
 * @returns one entry per step, each a list of one {@link LanguageBatch} per language
 */
export function languageBatches(
  lengths: Readonly<Record<string, ArrayLike<number>>>,
  options: LanguageBatchOptions,
): LanguageBatch[][] {
  if (typeof lengths !== "object" || lengths === null || Array.isArray(lengths))
    throw new TokenizeError(FN, "lengths", "an object of length arrays by language", show(lengths));
  const languages = Object.keys(lengths);
  if (languages.length === 0) throw new TokenizeError(FN, "lengths", "at least one language", "none");
  if (!Number.isSafeInteger(options.seed))
    throw new TokenizeError(FN, "options.seed", "an integer", show(options.seed));
  const until = options.until ?? "longest";
  if (until !== "longest" && until !== "shortest")
    throw new TokenizeError(FN, "options.until", '"longest" or "shortest"', show(until));
  const { batchSize, maxTokens } = options;
  if ((batchSize === undefined) === (maxTokens === undefined))
    throw new TokenizeError(
      FN,
      "options",
      "exactly one of batchSize and maxTokens",
      batchSize === undefined ? "neither" : "both",
    );
  for (const [argument, value] of [
    ["options.batchSize", batchSize],
    ["options.maxTokens", maxTokens],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1))
      throw new TokenizeError(FN, argument, "an integer >= 1", show(value));
  }
  const plan = (language: string, index: number, pass: number): number[][] => {
    const sizes = lengths[language];
    if (sizes === undefined || typeof sizes.length !== "number" || sizes.length === 0)
      throw new TokenizeError(FN, `lengths.${language}`, "at least one sequence", show(sizes));
    const seed = passSeed(options.seed, index, pass);
    return planBatches(sizes, { batchSize, maxTokens, bucket: options.bucket ?? true, seed });
  };
  const current = languages.map((language, index) => ({
    pass: 0,
    next: 0,
    batches: plan(language, index, 0),
  }));
  const counts = current.map((cursor) => cursor.batches.length);
  const steps = until === "longest" ? Math.max(...counts) : Math.min(...counts);
  const result: LanguageBatch[][] = [];
  for (let step = 0; step < steps; step++) {
    result.push(
      current.map((cursor, index) => {
        const language = languages[index] ?? "";
        if (cursor.next === cursor.batches.length) {
          cursor.pass++;
          cursor.next = 0;
          cursor.batches = plan(language, index, cursor.pass);
        }
        const indices = cursor.batches[cursor.next] ?? [];
        cursor.next++;
        return { language, indices, pass: cursor.pass };
      }),
    );
  }
  return result;
}
