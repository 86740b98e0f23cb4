import { StatsError } from "./errors.js";
import { checkSample, mean, variance } from "./validate.js";

function pooledStandardDeviation(fn: string, x: Float64Array, y: Float64Array): number {
  const n1 = x.length;
  const n2 = y.length;
  const pooled = Math.sqrt(((n1 - 1) * variance(x, 1) + (n2 - 1) * variance(y, 1)) / (n1 + n2 - 2));
  if (!(pooled > 0))
    throw new StatsError(fn, "b", "samples that are not both constant", "zero pooled variance");
  return pooled;
}

/** Cohen's d: (mean(a) − mean(b)) / pooled standard deviation (n − 1 denominators). Needs 2+ values each. */
export function cohensD(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const fn = "cohensD";
  const x = checkSample(fn, "a", a, 2);
  const y = checkSample(fn, "b", b, 2);
  return (mean(x) - mean(y)) / pooledStandardDeviation(fn, x, y);
}

/**
 * Hedges' g: Cohen's d times the small-sample correction 1 − 3 / (4(n₁ + n₂) − 9) (Hedges & Olkin 1985;
 * the form pingouin and most texts use; it is within 0.1% of the exact gamma-function factor for n₁ + n₂ ≥ 10).
 */
export function hedgesG(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const fn = "hedgesG";
  const x = checkSample(fn, "a", a, 2);
  const y = checkSample(fn, "b", b, 2);
  const d = (mean(x) - mean(y)) / pooledStandardDeviation(fn, x, y);
  return d * (1 - 3 / (4 * (x.length + y.length) - 9));
}
