import { normalCdf, normalSf } from "./distributions.js";
import { StatsError } from "./errors.js";
import { rankAverage, tieGroupSizes } from "./rank.js";
import {
  type Alternative,
  checkAlternative,
  checkBoolean,
  checkChoice,
  checkPaired,
  checkSample,
  pairwiseSum,
} from "./validate.js";

export type ZeroMethod = "wilcox" | "pratt" | "zsplit";

export interface WilcoxonOptions {
  readonly alternative?: Alternative;
  /** How zero differences are treated (scipy `zero_method`): dropped, ranked then dropped, or split. */
  readonly zeroMethod?: ZeroMethod;
  /** Continuity correction of the normal approximation. */
  readonly correction?: boolean;
  /** `"auto"`: exact for n ≤ 50 without zero differences, normal approximation otherwise. */
  readonly method?: "auto" | "exact" | "approx";
}

export interface WilcoxonResult {
  /** min(R+, R−) for two-sided, R+ for one-sided alternatives (scipy's convention). */
  readonly statistic: number;
  readonly pValue: number;
  /** The method actually used. */
  readonly method: "exact" | "approx";
  /** The standardised statistic when the normal approximation was used. */
  readonly zStatistic?: number;
}

/** Largest n for which the exact null distribution of R+ is built. */
const MAX_EXACT = 1000;

/** Null distribution of R+ for n untied ranks: counts of subsets of {1..n} by sum, divided by 2^n. */
function signedRankPmf(n: number): Float64Array {
  const max = (n * (n + 1)) / 2;
  let counts = new Float64Array(max + 1);
  counts[0] = 1;
  for (let k = 1; k <= n; k++) {
    const next = counts.slice();
    for (let s = k; s <= max; s++) next[s]! += counts[s - k]!;
    counts = next;
  }
  const total = 2 ** n;
  for (let s = 0; s <= max; s++) counts[s]! /= total;
  return counts;
}

/**
 * Wilcoxon signed-rank test on the differences a − b, as scipy.stats `wilcoxon` 1.10: same statistic,
 * zero methods, continuity correction, tie correction and exact/approximate choice. As in scipy, the
 * exact distribution assumes no ties (a tied R+ is truncated to an integer) and zero differences force the
 * normal approximation. All-zero differences with `wilcox` or `pratt` throw a `StatsError`.
 */
export function wilcoxonSignedRank(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: WilcoxonOptions = {},
): WilcoxonResult {
  const fn = "wilcoxonSignedRank";
  const x = checkSample(fn, "a", a);
  const y = checkSample(fn, "b", b);
  checkPaired(fn, x, y);
  const alternative = checkAlternative(fn, options.alternative);
  const zeroMethod = checkChoice(
    fn,
    "options.zeroMethod",
    options.zeroMethod,
    ["wilcox", "pratt", "zsplit"],
    "wilcox",
  );
  const correction = checkBoolean(fn, "options.correction", options.correction, false);
  const requested = checkChoice(fn, "options.method", options.method, ["auto", "exact", "approx"], "auto");
  let d: Float64Array = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) d[i] = x[i]! - y[i]!;
  let method: "exact" | "approx" = requested === "auto" ? (d.length <= 50 ? "exact" : "approx") : requested;
  const nZero = d.filter((value) => value === 0).length;
  if (nZero > 0 && method === "exact") method = "approx";
  if (method === "approx") {
    if (zeroMethod !== "zsplit" && nZero === d.length) {
      throw new StatsError(
        fn,
        "b",
        `some non-zero difference a − b with zeroMethod "${zeroMethod}"`,
        "all zero",
      );
    }
    if (zeroMethod === "wilcox") d = d.filter((value) => value !== 0);
  }
  const count = d.length;
  const r = rankAverage(d.map(Math.abs));
  const plus = new Float64Array(count);
  const minus = new Float64Array(count);
  const zero = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    if (d[i]! > 0) plus[i] = r[i]!;
    else if (d[i]! < 0) minus[i] = r[i]!;
    else zero[i] = r[i]!;
  }
  let rPlus = pairwiseSum(plus);
  let rMinus = pairwiseSum(minus);
  if (zeroMethod === "zsplit") {
    const rZero = pairwiseSum(zero);
    rPlus += rZero / 2;
    rMinus += rZero / 2;
  }
  const statistic = alternative === "two-sided" ? Math.min(rPlus, rMinus) : rPlus;
  if (method === "approx") {
    let mn = count * (count + 1) * 0.25;
    let se = count * (count + 1) * (2 * count + 1);
    let ranksForTies: ArrayLike<number> = r;
    if (zeroMethod === "pratt") {
      ranksForTies = r.filter((_, i) => d[i] !== 0);
      mn -= nZero * (nZero + 1) * 0.25;
      se -= nZero * (nZero + 1) * (2 * nZero + 1);
    }
    for (const size of tieGroupSizes(ranksForTies)) if (size > 1) se -= 0.5 * size * (size * size - 1);
    se = Math.sqrt(se / 24);
    let shift = 0;
    if (correction) {
      if (alternative === "two-sided") shift = 0.5 * Math.sign(statistic - mn);
      else shift = alternative === "less" ? -0.5 : 0.5;
    }
    const z = (statistic - mn - shift) / se;
    const pValue =
      alternative === "two-sided"
        ? 2 * normalSf(Math.abs(z))
        : alternative === "greater"
          ? normalSf(z)
          : normalCdf(z);
    return { statistic, pValue: Math.min(1, Math.max(0, pValue)), method, zStatistic: z };
  }
  if (count > MAX_EXACT) {
    throw new StatsError(
      fn,
      "options.method",
      `"approx" for ${count} differences (exact needs n <= ${MAX_EXACT})`,
      '"exact"',
    );
  }
  const pmf = signedRankPmf(count);
  const k = Math.trunc(rPlus);
  const lower = pairwiseSum(pmf, 0, k + 1);
  const upper = pairwiseSum(pmf, k);
  let pValue: number;
  if (alternative === "two-sided") pValue = k === (pmf.length - 1) >> 1 ? 1 : 2 * Math.min(upper, lower);
  else pValue = alternative === "greater" ? upper : lower;
  return { statistic, pValue: Math.min(1, Math.max(0, pValue)), method };
}
