import { MetricsError } from "./errors.js";

/**
 * Token-level perplexity: `exp(totalNll / tokenCount)`, where `totalNll` is the summed negative
 * log-likelihood (natural log) of the real tokens and `tokenCount` counts only those tokens. Padding must
 * be left out of both; averaging per-batch means instead weights short batches wrongly.
 */
export function perplexity(totalNll: number, tokenCount: number): number {
  const fn = "perplexity";
  if (typeof totalNll !== "number" || !Number.isFinite(totalNll) || totalNll < 0) {
    throw new MetricsError(fn, "totalNll", "a finite number >= 0", String(totalNll));
  }
  if (!Number.isInteger(tokenCount) || tokenCount < 1) {
    throw new MetricsError(fn, "tokenCount", "an integer >= 1", String(tokenCount));
  }
  return Math.exp(totalNll / tokenCount);
}

/**
 * Perplexity from per-token NLLs and a mask (`1`/`true` for real tokens, `0`/`false` for padding), both
 * flattened the same way: sums the masked NLLs, counts the masked tokens and calls `perplexity`. Every
 * real token's NLL must be finite and >= 0 (a negative NLL means the input is not a log-likelihood);
 * padding positions are not read.
 */
export function maskedPerplexity(tokenNll: ArrayLike<number>, mask: ArrayLike<number | boolean>): number {
  const fn = "maskedPerplexity";
  if (tokenNll.length !== mask.length) {
    throw new MetricsError(fn, "mask", `${tokenNll.length} entries like tokenNll`, `${mask.length}`);
  }
  let total = 0;
  let count = 0;
  for (let i = 0; i < tokenNll.length; i++) {
    const keep = mask[i];
    if (keep !== 0 && keep !== 1 && keep !== true && keep !== false) {
      throw new MetricsError(fn, `mask[${i}]`, "0, 1, true or false", String(keep));
    }
    if (keep === 0 || keep === false) continue;
    const value = tokenNll[i];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new MetricsError(fn, `tokenNll[${i}]`, "a finite number >= 0", String(value));
    }
    total += value;
    count++;
  }
  if (count === 0) throw new MetricsError(fn, "mask", "at least one real token", "0");
  return perplexity(total, count);
}
