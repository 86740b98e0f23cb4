import { tQuantile } from "./distributions.js";
import { checkProbability, checkSample, mean, variance } from "./validate.js";

export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1 denominator); 0 for a single value. */
  readonly std: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Student-t interval of the mean; [mean, mean] for a single value. */
  readonly ci: readonly [number, number];
}

/** Mean, standard deviation, median, range and the t confidence interval of the mean (0.95 by default). */
export function summary(x: ArrayLike<number>, options: { readonly confidenceLevel?: number } = {}): Summary {
  const fn = "summary";
  const data = checkSample(fn, "x", x);
  const level = checkProbability(fn, "options.confidenceLevel", options.confidenceLevel, 0.95);
  const n = data.length;
  const sorted = Float64Array.from(data).sort();
  const middle = n >> 1;
  const median = n % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const m = mean(data);
  const std = n > 1 ? Math.sqrt(variance(data, 1)) : 0;
  const halfWidth = n > 1 ? tQuantile(1 - (1 - level) / 2, n - 1) * (std / Math.sqrt(n)) : 0;
  return {
    n,
    mean: m,
    std,
    median,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    ci: [m - halfWidth, m + halfWidth],
  };
}
