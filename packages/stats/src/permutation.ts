import { StatsError } from "./errors.js";
import { Mt19937 } from "./random.js";
import {
  type Alternative,
  checkAlternative,
  checkBoolean,
  checkInteger,
  checkPaired,
  checkSample,
} from "./validate.js";

export interface PermutationOptions {
  readonly alternative?: Alternative;
  /** Enumerate all 2^n sign flips; by default exact when n ≤ 20, random sign flips otherwise. */
  readonly exact?: boolean;
  /** Number of random sign-flip resamples when not exact; 9,999 by default. */
  readonly resamples?: number;
  /** Seed of the resampling; 0 by default. */
  readonly seed?: number;
}

export interface PermutationResult {
  /** The observed statistic, mean(a − b). */
  readonly statistic: number;
  readonly pValue: number;
  /** Whether all 2^n sign flips were enumerated. */
  readonly exact: boolean;
  /** Null-distribution size: 2^n when exact, `resamples` otherwise. */
  readonly resamples: number;
}

const MAX_EXACT = 26;

/**
 * Paired permutation (sign-flip) test of mean(a − b), as scipy.stats `permutation_test(...,
 * permutation_type="samples")` with statistic mean(x − y): each pair's difference keeps or flips its sign.
 * Exact: all 2^n flips (including the observed one), p = (#as extreme) / 2^n. Random: p = (#as extreme + 1)
 * / (resamples + 1). Comparisons use scipy's relative tolerance of 1e-14; two-sided is twice the smaller
 * one-sided p, capped at 1.
 */
export function pairedPermutationTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: PermutationOptions = {},
): PermutationResult {
  const fn = "pairedPermutationTest";
  const x = checkSample(fn, "a", a);
  const y = checkSample(fn, "b", b);
  checkPaired(fn, x, y);
  const alternative = checkAlternative(fn, options.alternative);
  const n = x.length;
  const exact = checkBoolean(fn, "options.exact", options.exact, n <= 20);
  if (exact && n > MAX_EXACT) {
    throw new StatsError(
      fn,
      "options.exact",
      `false for more than ${MAX_EXACT} pairs (2^n flips)`,
      `true with ${n}`,
    );
  }
  const resamples = checkInteger(fn, "options.resamples", options.resamples, 1, 9999);
  const seed = checkInteger(fn, "options.seed", options.seed, 0, 0);
  const d = new Float64Array(n);
  let observedSum = 0;
  for (let i = 0; i < n; i++) {
    d[i] = x[i]! - y[i]!;
    observedSum += d[i]!;
  }
  const observed = observedSum / n;
  const gamma = Math.abs(1e-14 * observed);
  let lessCount = 0;
  let greaterCount = 0;
  const count = (statistic: number): void => {
    if (statistic <= observed + gamma) lessCount++;
    if (statistic >= observed - gamma) greaterCount++;
  };
  let total: number;
  if (exact) {
    total = 2 ** n;
    for (let mask = 0; mask < total; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += (mask >>> i) & 1 ? -d[i]! : d[i]!;
      count(sum / n);
    }
  } else {
    total = resamples;
    const random = new Mt19937(seed);
    for (let r = 0; r < resamples; r++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += random.random() < 0.5 ? -d[i]! : d[i]!;
      count(sum / n);
    }
  }
  const adjustment = exact ? 0 : 1;
  const pLess = (lessCount + adjustment) / (total + adjustment);
  const pGreater = (greaterCount + adjustment) / (total + adjustment);
  const p =
    alternative === "less" ? pLess : alternative === "greater" ? pGreater : 2 * Math.min(pLess, pGreater);
  return { statistic: observed, pValue: Math.min(1, p), exact, resamples: total };
}
