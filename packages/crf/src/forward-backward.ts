import type { Potentials } from "./potentials.js";

const NEG_INF = Number.NEGATIVE_INFINITY;

/**
 * Below this, a scaled sum may have lost terms to underflow, so the exact log-sum-exp is used.
 * Terms lost are < 2.3e-308 each, so above it the relative error is < 1e-50.
 */
const TINY = 1e-250;

/**
 * Forward algorithm in log space for one sequence (Lafferty et al. 2001; Sutton & McCallum 2012, §4.1):
 * `alpha[t, j] = e[t, j] + log Σ_i exp(alpha[t-1, i] + T[i, j])`.
 *
 * The sum is computed as `amax + colMax[j] + log Σ_i exp(alpha[i] - amax) · exp(T[i, j] - colMax[j])`,
 * which needs K exponentials per step instead of K²; where that scaled sum is tiny (so underflow
 * could have eaten its terms) the exact log-sum-exp is used instead, so the result is exact in log
 * space for any magnitude of scores.
 *
 * @param e emissions `[steps, K]` starting at `offset` (row stride K)
 * @param alpha output `[length, K]`
 * @param scratch at least K values
 * @returns log Z, or -Infinity when no path is allowed
 */
export function forward(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  alpha: Float64Array,
  scratch: Float64Array,
): number {
  const K = p.numTags;
  const { start, end, transposed, columnMax, expByColumn } = p;
  for (let j = 0; j < K; j++) alpha[j] = (start[j] as number) + (e[offset + j] as number);
  for (let t = 1; t < length; t++) {
    const previous = (t - 1) * K;
    const current = t * K;
    let amax = NEG_INF;
    for (let i = 0; i < K; i++)
      if ((alpha[previous + i] as number) > amax) amax = alpha[previous + i] as number;
    if (amax === NEG_INF) {
      for (let j = 0; j < K; j++) alpha[current + j] = NEG_INF;
      continue;
    }
    for (let i = 0; i < K; i++) scratch[i] = Math.exp((alpha[previous + i] as number) - amax);
    const et = offset + t * K;
    for (let j = 0; j < K; j++) {
      const column = j * K;
      let sum = 0;
      for (let i = 0; i < K; i++) sum += (scratch[i] as number) * (expByColumn[column + i] as number);
      let value: number;
      if (sum >= TINY) {
        value = amax + (columnMax[j] as number) + Math.log(sum);
      } else if (columnMax[j] === NEG_INF) {
        value = NEG_INF;
      } else {
        value = logSumExpShifted(alpha, previous, transposed, column, K);
      }
      alpha[current + j] = value + (e[et + j] as number);
    }
  }
  const last = (length - 1) * K;
  let max = NEG_INF;
  for (let j = 0; j < K; j++) {
    const value = (alpha[last + j] as number) + (end[j] as number);
    if (value > max) max = value;
  }
  if (max === NEG_INF) return NEG_INF;
  let sum = 0;
  for (let j = 0; j < K; j++) sum += Math.exp((alpha[last + j] as number) + (end[j] as number) - max);
  return max + Math.log(sum);
}

/** Exact `log Σ_i exp(x[xOffset + i] + y[yOffset + i])`. */
function logSumExpShifted(
  x: Float64Array,
  xOffset: number,
  y: Float64Array,
  yOffset: number,
  K: number,
): number {
  let max = NEG_INF;
  for (let i = 0; i < K; i++) {
    const value = (x[xOffset + i] as number) + (y[yOffset + i] as number);
    if (value > max) max = value;
  }
  if (max === NEG_INF) return NEG_INF;
  let sum = 0;
  for (let i = 0; i < K; i++) sum += Math.exp((x[xOffset + i] as number) + (y[yOffset + i] as number) - max);
  return max + Math.log(sum);
}

/**
 * Backward algorithm in log space: `beta[L-1, i] = end[i]`,
 * `beta[t, i] = log Σ_j exp(T[i, j] + e[t+1, j] + beta[t+1, j])`, with the same scaled fast path as
 * {@link forward} (row-normalised transitions) and its exact fallback.
 *
 * @param beta output `[length, K]`
 * @param scratch at least 2K values
 */
export function backward(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  beta: Float64Array,
  scratch: Float64Array,
): void {
  const K = p.numTags;
  const { end, transitions, rowMax, expByRow } = p;
  const last = (length - 1) * K;
  for (let i = 0; i < K; i++) beta[last + i] = end[i] as number;
  for (let t = length - 2; t >= 0; t--) {
    const next = (t + 1) * K;
    const current = t * K;
    const en = offset + next;
    // v[j] = e[t+1, j] + beta[t+1, j], kept in scratch[K..2K) for the exact fallback.
    let vmax = NEG_INF;
    for (let j = 0; j < K; j++) {
      const value = (e[en + j] as number) + (beta[next + j] as number);
      scratch[K + j] = value;
      if (value > vmax) vmax = value;
    }
    if (vmax === NEG_INF) {
      for (let i = 0; i < K; i++) beta[current + i] = NEG_INF;
      continue;
    }
    for (let j = 0; j < K; j++) scratch[j] = Math.exp((scratch[K + j] as number) - vmax);
    for (let i = 0; i < K; i++) {
      const row = i * K;
      let sum = 0;
      for (let j = 0; j < K; j++) sum += (expByRow[row + j] as number) * (scratch[j] as number);
      if (sum >= TINY) {
        beta[current + i] = vmax + (rowMax[i] as number) + Math.log(sum);
      } else if (rowMax[i] === NEG_INF) {
        beta[current + i] = NEG_INF;
      } else {
        beta[current + i] = logSumExpShifted(transitions, row, scratch, K, K);
      }
    }
  }
}

/** Past this, exp(scale) could overflow; the exact per-entry formula is used instead. */
const MAX_LOG_SCALE = 600;

/**
 * Adds `weight ·` the marginals of one sequence to the gradient buffers (weight is +1/-1 times the
 * reduction's scale): unary `p(y_t = j)` into `gradE[t, j]`, `gradStart`, `gradEnd`, and pairwise
 * `p(y_{t-1} = i, y_t = j)` into `gradTransposed[j, i]` (transposed, so the inner loop is contiguous).
 * Also writes the unary marginals into `unary` when it is given.
 *
 * Pairwise marginals use the scaled factorisation
 * `exp(alpha[i] - amax) · exp(T[i,j] - colMax[j]) · exp(amax + colMax[j] + e[t,j] + beta[t,j] - logZ)`;
 * each marginal is at most 1, so entries lost to underflow are below 1e-19 in absolute terms.
 */
export function accumulateMarginals(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  alpha: Float64Array,
  beta: Float64Array,
  logZ: number,
  weight: number,
  gradE: Float64Array | null,
  gradTransposed: Float64Array | null,
  gradStart: Float64Array | null,
  gradEnd: Float64Array | null,
  unary: Float64Array | null,
  scratch: Float64Array,
): void {
  const K = p.numTags;
  const { transposed, columnMax, expByColumn } = p;
  for (let t = 0; t < length; t++) {
    const row = t * K;
    for (let j = 0; j < K; j++) {
      const marginal = Math.exp((alpha[row + j] as number) + (beta[row + j] as number) - logZ);
      if (unary !== null) unary[offset + row + j] = marginal;
      if (gradE !== null) gradE[offset + row + j] = (gradE[offset + row + j] as number) + weight * marginal;
      if (t === 0 && gradStart !== null) gradStart[j] = (gradStart[j] as number) + weight * marginal;
      if (t === length - 1 && gradEnd !== null) gradEnd[j] = (gradEnd[j] as number) + weight * marginal;
    }
  }
  if (gradTransposed === null) return;
  for (let t = 1; t < length; t++) {
    const previous = (t - 1) * K;
    const current = t * K;
    let amax = NEG_INF;
    for (let i = 0; i < K; i++)
      if ((alpha[previous + i] as number) > amax) amax = alpha[previous + i] as number;
    if (amax === NEG_INF) continue;
    for (let i = 0; i < K; i++) scratch[i] = Math.exp((alpha[previous + i] as number) - amax);
    const et = offset + current;
    for (let j = 0; j < K; j++) {
      const tail = (e[et + j] as number) + (beta[current + j] as number) - logZ;
      const logScale = amax + (columnMax[j] as number) + tail;
      if (logScale === NEG_INF || Number.isNaN(logScale)) continue;
      const column = j * K;
      if (logScale <= MAX_LOG_SCALE) {
        const scale = weight * Math.exp(logScale);
        for (let i = 0; i < K; i++) {
          gradTransposed[column + i] =
            (gradTransposed[column + i] as number) +
            scale * (scratch[i] as number) * (expByColumn[column + i] as number);
        }
      } else {
        for (let i = 0; i < K; i++) {
          const logP = (alpha[previous + i] as number) + (transposed[column + i] as number) + tail;
          if (logP !== NEG_INF)
            gradTransposed[column + i] = (gradTransposed[column + i] as number) + weight * Math.exp(logP);
        }
      }
    }
  }
}
