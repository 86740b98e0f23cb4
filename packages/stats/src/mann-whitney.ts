import { normalSf } from "./distributions.js";
import { StatsError } from "./errors.js";
import { rankAverage, tieGroupSizes } from "./rank.js";
import {
  type Alternative,
  checkAlternative,
  checkBoolean,
  checkChoice,
  checkSample,
  pairwiseSum,
} from "./validate.js";

export interface MannWhitneyOptions {
  readonly alternative?: Alternative;
  /** Continuity correction (½) of the normal approximation; true by default. */
  readonly useContinuity?: boolean;
  /** `"auto"`: exact when either sample has ≤ 8 values and nothing is tied, asymptotic otherwise. */
  readonly method?: "auto" | "exact" | "asymptotic";
}

export interface MannWhitneyResult {
  /** U of the first sample. */
  readonly statistic: number;
  readonly pValue: number;
  readonly method: "exact" | "asymptotic";
}

/** Largest (mn)²/4, the work of building the exact distribution, that is allowed (about a second). */
const MAX_EXACT_WORK = 2e8;

/**
 * Null distribution of U for samples of sizes m and n (Di Bucchianico 1999, Theorem 2.5):
 * f(i, j, k) = f(i − 1, j, k − j) + f(i, j − 1, k), built row by row; returns probabilities of k = 0..mn.
 */
function uPmf(m: number, n: number): Float64Array {
  let previous: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const current: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const poly = new Float64Array(i * j + 1);
      const shifted = previous[j]!;
      for (let k = 0; k < shifted.length; k++) poly[k + j]! += shifted[k]!;
      const left = current[j - 1]!;
      for (let k = 0; k < left.length; k++) poly[k]! += left[k]!;
      current.push(poly);
    }
    previous = current;
  }
  const counts = previous[n]!;
  const total = pairwiseSum(counts);
  return counts.map((count) => count / total);
}

/**
 * Mann–Whitney U test of two independent samples, as scipy.stats `mannwhitneyu` 1.10: U of the first
 * sample, exact distribution (no tie correction, as scipy) or normal approximation with tie and continuity
 * corrections. Samples may differ in length; the order of values inside a sample does not matter.
 *
 * When every value of both samples is the same, U is mn/2 as in scipy; the asymptotic p-value is 1 with the
 * continuity correction (as scipy) and, without it, 0/0: scipy returns NaN there, this function throws
 * `StatsError` (the exact method still gives scipy's p-values).
 */
export function mannWhitneyU(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  const fn = "mannWhitneyU";
  const x = checkSample(fn, "a", a);
  const y = checkSample(fn, "b", b);
  const alternative = checkAlternative(fn, options.alternative);
  const useContinuity = checkBoolean(fn, "options.useContinuity", options.useContinuity, true);
  const requested = checkChoice(
    fn,
    "options.method",
    options.method,
    ["auto", "exact", "asymptotic"],
    "auto",
  );
  const n1 = x.length;
  const n2 = y.length;
  const xy = new Float64Array(n1 + n2);
  xy.set(x);
  xy.set(y, n1);
  const ties = tieGroupSizes(xy);
  let method: "exact" | "asymptotic";
  if (requested !== "auto") method = requested;
  else method = (n1 > 8 && n2 > 8) || ties.some((size) => size > 1) ? "asymptotic" : "exact";
  const ranks = rankAverage(xy);
  const r1 = pairwiseSum(ranks, 0, n1);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const u = alternative === "greater" ? u1 : alternative === "less" ? u2 : Math.max(u1, u2);
  const factor = alternative === "two-sided" ? 2 : 1;
  let p: number;
  if (method === "exact") {
    if ((n1 * n1 * n2 * n2) / 4 > MAX_EXACT_WORK) {
      throw new StatsError(
        fn,
        "options.method",
        `"asymptotic" for samples of ${n1} and ${n2} values`,
        '"exact"',
      );
    }
    const pmf = uPmf(Math.min(n1, n2), Math.max(n1, n2));
    p = pairwiseSum(pmf, 0, n1 * n2 - Math.trunc(u) + 1);
  } else {
    const n = n1 + n2;
    let tieTerm = 0;
    for (const size of ties) tieTerm += size ** 3 - size;
    const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
    if (s === 0 && !useContinuity) {
      throw new StatsError(
        fn,
        "b",
        "some value that differs from the rest (the asymptotic test without continuity correction)",
        `every value of a and b equal to ${x[0]}`,
      );
    }
    const numerator = u - (n1 * n2) / 2 - (useContinuity ? 0.5 : 0);
    p = normalSf(numerator / s);
  }
  return { statistic: u1, pValue: Math.min(1, Math.max(0, p * factor)), method };
}
