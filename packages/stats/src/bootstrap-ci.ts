import { normalCdf, normalQuantile } from "./distributions.js";
import { StatsError } from "./errors.js";
import { Mt19937 } from "./random.js";
import { checkChoice, checkInteger, checkProbability, checkSample, mean } from "./validate.js";

export type BootstrapMethod = "percentile" | "bca";

export interface BootstrapCIOptions {
  /** A statistic of one sample; the mean by default. */
  readonly statistic?: (sample: Float64Array) => number;
  /** `"bca"` (bias-corrected and accelerated, the default as in scipy) or `"percentile"`. */
  readonly method?: BootstrapMethod;
  readonly confidenceLevel?: number;
  /** Bootstrap resamples; 9,999 by default (scipy's default). */
  readonly resamples?: number;
  /** Seed of the resampling (MT19937); 0 by default. */
  readonly seed?: number;
}

export interface BootstrapCIResult {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** numpy `percentile` (linear interpolation) of an ascending-sorted array, q in [0, 100]. */
function percentile(sorted: Float64Array, q: number): number {
  const position = (q / 100) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  const t = position - low;
  const a = sorted[low]!;
  const b = sorted[high]!;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/**
 * The interval from a given bootstrap distribution `thetaHatB` (scipy 1.10 `bootstrap` semantics):
 * percentile, or BCa (Efron & Tibshirani 1993, §14.3 and eq. 15.36) with z₀ from the mid-rank percentile
 * of θ̂ and the acceleration from the jackknife.
 */
export function bootstrapInterval(
  data: Float64Array,
  statistic: (sample: Float64Array) => number,
  thetaHatB: Float64Array,
  confidenceLevel: number,
  method: BootstrapMethod,
): BootstrapCIResult {
  const estimate = statistic(data);
  const sorted = Float64Array.from(thetaHatB).sort();
  const alpha = (1 - confidenceLevel) / 2;
  if (method === "percentile") {
    return { estimate, low: percentile(sorted, alpha * 100), high: percentile(sorted, (1 - alpha) * 100) };
  }
  let below = 0;
  let atOrBelow = 0;
  for (const theta of sorted) {
    if (theta < estimate) below++;
    if (theta <= estimate) atOrBelow++;
  }
  const z0 = normalQuantile((below + atOrBelow) / (2 * sorted.length));
  const n = data.length;
  const jackknife = new Float64Array(n);
  const leaveOneOut = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    leaveOneOut.set(data.subarray(0, i));
    leaveOneOut.set(data.subarray(i + 1), i);
    jackknife[i] = statistic(leaveOneOut);
  }
  const jackknifeMean = mean(jackknife);
  let cubes = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const u = (n - 1) * (jackknifeMean - jackknife[i]!);
    cubes += u ** 3;
    squares += u ** 2;
  }
  const acceleration = ((1 / 6) * (cubes / n ** 3)) / (squares / n ** 2) ** 1.5;
  const adjust = (z: number): number => {
    const shifted = z0 + z;
    return normalCdf(z0 + shifted / (1 - acceleration * shifted));
  };
  const zAlpha = normalQuantile(alpha);
  const low = adjust(zAlpha);
  const high = adjust(-zAlpha);
  if (!Number.isFinite(low) || !Number.isFinite(high)) {
    throw new StatsError(
      "bootstrapCI",
      "x",
      "a bootstrap distribution with more than one value (BCa)",
      "a degenerate one",
    );
  }
  return { estimate, low: percentile(sorted, low * 100), high: percentile(sorted, high * 100) };
}

/**
 * Bootstrap confidence interval of a one-sample statistic (scipy.stats `bootstrap` semantics, seeded with
 * this package's MT19937, so the resamples differ from scipy's but the interval rules are the same).
 */
export function bootstrapCI(x: ArrayLike<number>, options: BootstrapCIOptions = {}): BootstrapCIResult {
  const fn = "bootstrapCI";
  const data = checkSample(fn, "x", x, 2);
  const statistic = options.statistic ?? mean;
  const method = checkChoice(fn, "options.method", options.method, ["bca", "percentile"], "bca");
  const level = checkProbability(fn, "options.confidenceLevel", options.confidenceLevel, 0.95);
  const resamples = checkInteger(fn, "options.resamples", options.resamples, 2, 9999);
  const random = new Mt19937(checkInteger(fn, "options.seed", options.seed, 0, 0));
  const n = data.length;
  const sample = new Float64Array(n);
  const thetaHatB = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = data[random.integer(n)]!;
    thetaHatB[r] = statistic(sample);
  }
  return bootstrapInterval(data, statistic, thetaHatB, level, method);
}
