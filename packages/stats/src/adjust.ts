import { StatsError } from "./errors.js";
import { checkChoice } from "./validate.js";

/** p-value adjustments, named as in statsmodels `multipletests` (`hochberg` = simes-hochberg, `bh` = fdr_bh, `by` = fdr_by). */
export type AdjustMethod =
  | "bonferroni"
  | "sidak"
  | "holm"
  | "holm-sidak"
  | "hochberg"
  | "hommel"
  | "bh"
  | "by";

export const ADJUST_METHODS: readonly AdjustMethod[] = [
  "bonferroni",
  "sidak",
  "holm",
  "holm-sidak",
  "hochberg",
  "hommel",
  "bh",
  "by",
];

function cumulativeMax(x: Float64Array): void {
  for (let i = 1; i < x.length; i++) if (x[i]! < x[i - 1]!) x[i] = x[i - 1]!;
}

function reverseCumulativeMin(x: Float64Array): void {
  for (let i = x.length - 2; i >= 0; i--) if (x[i]! > x[i + 1]!) x[i] = x[i + 1]!;
}

/** Adjusts sorted p-values in place; `m` is the number of tests. */
function adjustSorted(p: Float64Array, method: AdjustMethod): Float64Array {
  const m = p.length;
  const out = new Float64Array(m);
  switch (method) {
    case "bonferroni":
      for (let i = 0; i < m; i++) out[i] = p[i]! * m;
      break;
    case "sidak":
      for (let i = 0; i < m; i++) out[i] = -Math.expm1(m * Math.log1p(-p[i]!));
      break;
    case "holm":
      for (let i = 0; i < m; i++) out[i] = p[i]! * (m - i);
      cumulativeMax(out);
      break;
    case "holm-sidak":
      for (let i = 0; i < m; i++) out[i] = -Math.expm1((m - i) * Math.log1p(-p[i]!));
      cumulativeMax(out);
      break;
    case "hochberg":
      for (let i = 0; i < m; i++) out[i] = p[i]! * (m - i);
      reverseCumulativeMin(out);
      break;
    case "hommel": {
      out.set(p);
      for (let size = m; size > 1; size--) {
        let cim = Number.POSITIVE_INFINITY;
        for (let k = 0; k < size; k++) cim = Math.min(cim, (size * p[m - size + k]!) / (k + 1));
        for (let i = m - size; i < m; i++) out[i] = Math.max(out[i]!, cim);
        for (let i = 0; i < m - size; i++) out[i] = Math.max(out[i]!, Math.min(size * p[i]!, cim));
      }
      break;
    }
    case "bh":
    case "by": {
      let harmonic = 1;
      if (method === "by") {
        harmonic = 0;
        for (let k = 1; k <= m; k++) harmonic += 1 / k;
      }
      for (let i = 0; i < m; i++) out[i] = p[i]! / ((i + 1) / m / harmonic);
      reverseCumulativeMin(out);
      break;
    }
  }
  for (let i = 0; i < m; i++) if (out[i]! > 1) out[i] = 1;
  return out;
}

/**
 * Adjusted p-values for multiple comparisons, in the input order, exactly as statsmodels
 * `multipletests(p, method=...)[1]` computes them (sorted ascending, adjusted, capped at 1, put back).
 */
export function adjustPValues(p: ArrayLike<number>, method: AdjustMethod): number[] {
  const fn = "adjustPValues";
  if (method === undefined) throw new StatsError(fn, "method", ADJUST_METHODS.join(" | "), "undefined");
  const chosen = checkChoice(fn, "method", method, ADJUST_METHODS, "bonferroni");
  if (!(Array.isArray(p) || ArrayBuffer.isView(p)) || p.length === 0) {
    throw new StatsError(fn, "p", "a non-empty array of p-values", Array.isArray(p) ? "[]" : typeof p);
  }
  for (let i = 0; i < p.length; i++) {
    const value = p[i]!;
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      throw new StatsError(fn, `p[${i}]`, "a p-value in [0, 1]", String(value));
    }
  }
  const order = Array.from({ length: p.length }, (_, i) => i).sort((i, j) => p[i]! - p[j]!);
  const sorted = Float64Array.from(order, (i) => p[i]!);
  const adjusted = adjustSorted(sorted, chosen);
  const out = new Array<number>(p.length);
  order.forEach((original, rank) => {
    out[original] = adjusted[rank]!;
  });
  return out;
}
