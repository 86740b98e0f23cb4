import type { Potentials } from "./potentials.js";

/** Reusable buffers for one sequence's forward-backward pass, each at least `steps · K` long. */
export interface Workspace {
  /** shape: [steps, K]; log forward scores. */
  alpha: Float64Array;
  /** shape: [steps, K]; log backward scores. */
  beta: Float64Array;
  /** shape: [steps, K]; row t holds `exp(alpha[t-1, i] - amax)` (see {@link forward}). */
  expAlpha: Float64Array;
  /** shape: [steps, K]; the scaled sums `s[t, j]`, or 0 where the exact path was taken. */
  sums: Float64Array;
  /** At least 2K values. */
  scratch: Float64Array;
}

/** Where {@link accumulateMarginals} adds its results; absent ones are skipped. */
export interface MarginalTargets {
  /** shape: [steps, K] from the same offset as the emissions. */
  gradE?: Float64Array;
  /** shape: [to, from]. */
  gradTransposed?: Float64Array;
  gradStart?: Float64Array;
  gradEnd?: Float64Array;
  /** shape: [steps, K] from the same offset as the emissions; written, not added. */
  unary?: Float64Array;
}

export function makeWorkspace(size: number): Workspace {
  return {
    alpha: new Float64Array(size),
    beta: new Float64Array(size),
    expAlpha: new Float64Array(size),
    sums: new Float64Array(size),
    scratch: new Float64Array(size),
  };
}

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
 * The sum is computed as `amax + colMax[j] + log s[t, j]` with
 * `s[t, j] = Σ_i exp(alpha[t-1, i] - amax) · exp(T[i, j] - colMax[j])`, which needs K exponentials
 * per step instead of K²; where `s` is tiny (so underflow could have eaten its terms) the exact
 * log-sum-exp is used instead, so the result is exact in log space for any magnitude of scores.
 * The scaled terms are kept for {@link accumulateMarginals}: row t of `expAlpha` holds
 * `exp(alpha[t-1, i] - amax)`, and `sums[t, j]` holds `s[t, j]`, or 0 where the exact path was taken.
 *
 * @param e emissions `[steps, K]` starting at `offset` (row stride K)
 * @param workspace receives `alpha`, `expAlpha` and `sums` for the first `length` steps
 * @returns log Z, or -Infinity when no path is allowed
 */
export function forward(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  workspace: Workspace,
): number {
  const { alpha, expAlpha, sums } = workspace;
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
      for (let j = 0; j < K; j++) {
        alpha[current + j] = NEG_INF;
        expAlpha[current + j] = 0;
        sums[current + j] = 0;
      }
      continue;
    }
    for (let i = 0; i < K; i++) expAlpha[current + i] = Math.exp((alpha[previous + i] as number) - amax);
    const et = offset + current;
    for (let j = 0; j < K; j++) {
      const column = j * K;
      let sum = 0;
      for (let i = 0; i < K; i++)
        sum += (expAlpha[current + i] as number) * (expByColumn[column + i] as number);
      let value: number;
      if (sum >= TINY) {
        value = amax + (columnMax[j] as number) + Math.log(sum);
        sums[current + j] = sum;
      } else {
        value = columnMax[j] === NEG_INF ? NEG_INF : logSumExpShifted(alpha, previous, transposed, column, K);
        sums[current + j] = 0;
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
 * @param workspace receives `beta` for the first `length` steps
 */
export function backward(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  workspace: Workspace,
): void {
  const { beta, scratch } = workspace;
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

/**
 * Adds `weight ·` the marginals of one sequence to the gradient buffers (weight is ±1 times the
 * reduction's scale): unary `p(y_t = j)` into `gradE[t, j]`, `gradStart`, `gradEnd`, and pairwise
 * `p(y_{t-1} = i, y_t = j)` into `gradTransposed[j, i]` (transposed, so the inner loop is contiguous).
 * Also writes the unary marginals into `unary` when it is given. `expAlpha` and `sums` are the ones
 * {@link forward} wrote for this `alpha`.
 *
 * Since `alpha[t, j] = e[t, j] + amax + colMax[j] + log s[t, j]` on forward's fast path, the
 * pairwise marginal is exactly `exp(alpha[t-1, i] - amax) · exp(T[i, j] - colMax[j]) · p(y_t = j) / s[t, j]`:
 * no exponential per pair, and each column sums to the unary marginal by construction. Where forward
 * took the exact path, so does this.
 */
export function accumulateMarginals(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  workspace: Workspace,
  logZ: number,
  weight: number,
  targets: MarginalTargets,
): void {
  const { alpha, beta, expAlpha, sums, scratch } = workspace;
  const gradE = targets.gradE ?? null;
  const gradTransposed = targets.gradTransposed ?? null;
  const gradStart = targets.gradStart ?? null;
  const gradEnd = targets.gradEnd ?? null;
  const unary = targets.unary ?? null;
  const K = p.numTags;
  const { transposed, expByColumn } = p;
  for (let t = 0; t < length; t++) {
    const row = t * K;
    for (let j = 0; j < K; j++) {
      const marginal = Math.exp((alpha[row + j] as number) + (beta[row + j] as number) - logZ);
      scratch[j] = marginal;
      if (unary !== null) unary[offset + row + j] = marginal;
      if (gradE !== null) gradE[offset + row + j] = (gradE[offset + row + j] as number) + weight * marginal;
    }
    if (t === 0 && gradStart !== null) {
      for (let j = 0; j < K; j++) gradStart[j] = (gradStart[j] as number) + weight * (scratch[j] as number);
    }
    if (t === length - 1 && gradEnd !== null) {
      for (let j = 0; j < K; j++) gradEnd[j] = (gradEnd[j] as number) + weight * (scratch[j] as number);
    }
    if (t === 0 || gradTransposed === null) continue;
    const previous = row - K;
    for (let j = 0; j < K; j++) {
      const marginal = scratch[j] as number;
      // Every pairwise marginal into j is at most p(y_t = j).
      if (marginal === 0) continue;
      const column = j * K;
      const sum = sums[row + j] as number;
      if (sum > 0) {
        const scale = (weight * marginal) / sum;
        for (let i = 0; i < K; i++) {
          gradTransposed[column + i] =
            (gradTransposed[column + i] as number) +
            scale * (expAlpha[row + i] as number) * (expByColumn[column + i] as number);
        }
      } else {
        const tail = (e[offset + row + j] as number) + (beta[row + j] as number) - logZ;
        for (let i = 0; i < K; i++) {
          const logP = (alpha[previous + i] as number) + (transposed[column + i] as number) + tail;
          if (logP !== NEG_INF)
            gradTransposed[column + i] = (gradTransposed[column + i] as number) + weight * Math.exp(logP);
        }
      }
    }
  }
}
