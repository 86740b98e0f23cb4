import normalCdfImpl from "@stdlib/stats-base-dists-normal-cdf";
import normalQuantileImpl from "@stdlib/stats-base-dists-normal-quantile";
import tCdfImpl from "@stdlib/stats-base-dists-t-cdf";
import tPdfImpl from "@stdlib/stats-base-dists-t-pdf";
import tQuantileImpl from "@stdlib/stats-base-dists-t-quantile";

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return normalCdfImpl(z, 0, 1);
}

/** Standard normal survival function 1 − Φ(z), computed as Φ(−z) so small tails keep their digits. */
export function normalSf(z: number): number {
  return normalCdfImpl(-z, 0, 1);
}

/** Standard normal quantile Φ⁻¹(p). */
export function normalQuantile(p: number): number {
  return normalQuantileImpl(p, 0, 1);
}

/** Student's t CDF with `df` degrees of freedom (any real df > 0). */
export function tCdf(t: number, df: number): number {
  return tCdfImpl(t, df);
}

/**
 * Student's t quantile with `df` degrees of freedom. @stdlib's quantile can be off by ~1e-9 relative
 * (e.g. p = 0.95, df = 4), so two Newton steps on the accurate CDF polish it to machine precision.
 */
export function tQuantile(p: number, df: number): number {
  let x = tQuantileImpl(p, df);
  if (!Number.isFinite(x)) return x;
  for (let step = 0; step < 2; step++) {
    const density = tPdfImpl(x, df);
    if (!(density > 0)) break;
    x -= (tCdfImpl(x, df) - p) / density;
  }
  return x;
}
