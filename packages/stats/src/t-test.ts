import { tCdf, tQuantile } from "./distributions.js";
import { StatsError } from "./errors.js";
import {
  type Alternative,
  checkAlternative,
  checkPaired,
  checkProbability,
  checkSample,
  mean,
  variance,
} from "./validate.js";

/** p-value of a t statistic (scipy `_ttest_finish`). */
export function tPValue(t: number, df: number, alternative: Alternative): number {
  if (alternative === "less") return tCdf(t, df);
  if (alternative === "greater") return tCdf(-t, df);
  return Math.min(1, 2 * tCdf(-Math.abs(t), df));
}

export interface TTestOptions {
  readonly alternative?: Alternative;
  /** Confidence level of the interval for the mean difference; 0.95 by default. */
  readonly confidenceLevel?: number;
}

export interface PairedTTestResult {
  readonly statistic: number;
  readonly pValue: number;
  readonly df: number;
  /** mean(a − b). */
  readonly meanDifference: number;
  /** Confidence interval for the mean difference, one-sided (±∞) for one-sided alternatives. */
  readonly ci: readonly [number, number];
}

export interface WelchTTestResult {
  readonly statistic: number;
  readonly pValue: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
}

function confidenceInterval(
  estimate: number,
  standardError: number,
  df: number,
  level: number,
  alternative: Alternative,
): [number, number] {
  if (alternative === "less")
    return [Number.NEGATIVE_INFINITY, estimate + tQuantile(level, df) * standardError];
  if (alternative === "greater")
    return [estimate + tQuantile(1 - level, df) * standardError, Number.POSITIVE_INFINITY];
  const tail = (1 - level) / 2;
  return [estimate + tQuantile(tail, df) * standardError, estimate + tQuantile(1 - tail, df) * standardError];
}

/**
 * Paired (related-samples) t-test of mean(a − b) = 0, as scipy.stats `ttest_rel`, with scipy's
 * `confidence_interval()` for the mean difference. Needs n ≥ 2 pairs whose differences are not all equal
 * (scipy returns NaN or ±∞ there; this throws a `StatsError` instead).
 */
export function pairedTTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: TTestOptions = {},
): PairedTTestResult {
  const fn = "pairedTTest";
  const x = checkSample(fn, "a", a, 2);
  const y = checkSample(fn, "b", b, 2);
  checkPaired(fn, x, y);
  const alternative = checkAlternative(fn, options.alternative);
  const level = checkProbability(fn, "options.confidenceLevel", options.confidenceLevel, 0.95);
  const n = x.length;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = x[i]! - y[i]!;
  const v = variance(d, 1);
  if (!(v > 0)) throw new StatsError(fn, "b", "differences a − b that are not all equal", "zero variance");
  const meanDifference = mean(d);
  const standardError = Math.sqrt(v / n);
  const statistic = meanDifference / standardError;
  const df = n - 1;
  return {
    statistic,
    pValue: tPValue(statistic, df, alternative),
    df,
    meanDifference,
    ci: confidenceInterval(meanDifference, standardError, df, level, alternative),
  };
}

/**
 * Welch's unequal-variances t-test of mean(a) = mean(b), as scipy.stats `ttest_ind(equal_var=False)`.
 * Needs 2 or more values in each sample and a non-zero pooled variance.
 */
export function welchTTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: TTestOptions = {},
): WelchTTestResult {
  const fn = "welchTTest";
  const x = checkSample(fn, "a", a, 2);
  const y = checkSample(fn, "b", b, 2);
  const alternative = checkAlternative(fn, options.alternative);
  const n1 = x.length;
  const n2 = y.length;
  const vn1 = variance(x, 1) / n1;
  const vn2 = variance(y, 1) / n2;
  if (!(vn1 + vn2 > 0)) throw new StatsError(fn, "b", "samples that are not both constant", "zero variance");
  const df = (vn1 + vn2) ** 2 / (vn1 ** 2 / (n1 - 1) + vn2 ** 2 / (n2 - 1));
  const statistic = (mean(x) - mean(y)) / Math.sqrt(vn1 + vn2);
  return { statistic, pValue: tPValue(statistic, df, alternative), df };
}
