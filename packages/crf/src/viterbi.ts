import type { Potentials } from "./potentials.js";

const NEG_INF = Number.NEGATIVE_INFINITY;

/**
 * From this many tags up, a column that the best previous tag does not settle is searched in
 * decreasing order of delta with early exit; below it, a plain scan is cheaper than the sort
 * (measured on N(0, 1) and peaked emissions at 9, 17 and 65 tags).
 */
const SORTED_SEARCH_TAGS = 32;

/**
 * Viterbi decoding of one sequence (Viterbi 1967; Rabiner 1989, §III.B):
 * `delta[t, j] = e[t, j] + max_i (delta[t-1, i] + T[i, j])`, then backtrack.
 *
 * Exact branch and bound. For column j the best previous tag m is tried first; if even the
 * runner-up's bound `delta[t-1, second] + colMax[j]` falls below it, m wins outright (the usual case
 * once a tagger is trained, when one tag dominates). Otherwise the column is scanned in full, or,
 * from {@link SORTED_SEARCH_TAGS} tags up, the previous tags are visited in decreasing order of
 * delta (sorted at most once per step) and the search stops as soon as `delta[t-1, i] + colMax[j]`
 * falls below the best value found. Floating-point addition is monotonic, so the bounds are exact
 * and the result equals a full scan's, ties included: ties go to the smallest tag index.
 *
 * @param rows scratch of at least 2K values (previous and current delta rows)
 * @param order scratch of at least K entries
 * @param backpointers scratch of at least length·K entries
 * @returns the path's score, or -Infinity when no path is allowed (the path is then meaningless)
 */
export function viterbi(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  path: Int32Array,
  rows: Float64Array,
  order: Int32Array,
  backpointers: Int32Array,
): number {
  const K = p.numTags;
  const { start, end, transposed, columnMax } = p;
  let previous = rows.subarray(0, K);
  let current = rows.subarray(K, 2 * K);
  for (let j = 0; j < K; j++) previous[j] = (start[j] as number) + (e[offset + j] as number);
  for (let t = 1; t < length; t++) {
    // The best previous tag (first on ties) and the runner-up's score.
    let top = 0;
    let first = previous[0] as number;
    let second = NEG_INF;
    for (let i = 1; i < K; i++) {
      const value = previous[i] as number;
      if (value > first) {
        second = first;
        first = value;
        top = i;
      } else if (value > second) {
        second = value;
      }
    }
    let sorted = false;
    const et = offset + t * K;
    const bt = t * K;
    for (let j = 0; j < K; j++) {
      const column = j * K;
      const bound = columnMax[j] as number;
      let argbest = top;
      let best = first + (transposed[column + top] as number);
      if (!(second + bound < best)) {
        if (K < SORTED_SEARCH_TAGS) {
          argbest = 0;
          best = (previous[0] as number) + (transposed[column] as number);
          for (let i = 1; i < K; i++) {
            const value = (previous[i] as number) + (transposed[column + i] as number);
            if (value > best) {
              best = value;
              argbest = i;
            }
          }
        } else {
          if (!sorted) {
            sortDescending(previous, order, K);
            sorted = true;
          }
          // order[0] is `top`: the sort is stable, so ties keep index order.
          for (let r = 1; r < K; r++) {
            const i = order[r] as number;
            const delta = previous[i] as number;
            if (delta + bound < best) break;
            const value = delta + (transposed[column + i] as number);
            if (value > best || (value === best && i < argbest)) {
              best = value;
              argbest = i;
            }
          }
        }
      }
      current[j] = best + (e[et + j] as number);
      backpointers[bt + j] = argbest;
    }
    const swap = previous;
    previous = current;
    current = swap;
  }
  let best = NEG_INF;
  let last = 0;
  for (let j = 0; j < K; j++) {
    const value = (previous[j] as number) + (end[j] as number);
    if (value > best) {
      best = value;
      last = j;
    }
  }
  path[length - 1] = last;
  for (let t = length - 1; t > 0; t--) {
    last = backpointers[t * K + last] as number;
    path[t - 1] = last;
  }
  return best;
}

/** Stable insertion sort of tag indices by decreasing score (K is small). */
function sortDescending(scores: Float64Array, order: Int32Array, K: number): void {
  for (let i = 0; i < K; i++) {
    const value = scores[i] as number;
    let k = i;
    while (k > 0 && (scores[order[k - 1] as number] as number) < value) {
      order[k] = order[k - 1] as number;
      k--;
    }
    order[k] = i;
  }
}

/** One entry of an n-best list: a path and its unnormalised score. */
export interface ScoredPath {
  path: number[];
  score: number;
}

/**
 * List Viterbi: the `k` best paths of one sequence, best first (Seshadri & Sundberg 1994; the
 * "parallel" list algorithm). Each (step, tag) cell keeps its top `k` partial paths with
 * backpointers to (previous tag, rank); a cell's candidates come from every previous tag's list,
 * which is sorted, so a list is abandoned as soon as its next entry cannot enter the top `k`.
 * Paths with equal scores come in lexicographic order of the reversed path (smaller last tag first,
 * then smaller tag before it, ...), because candidates are produced in that order and ties never
 * overtake.
 * Returns fewer than `k` paths when fewer allowed paths exist.
 */
export function nbestPaths(
  p: Potentials,
  e: Float64Array,
  offset: number,
  length: number,
  k: number,
): ScoredPath[] {
  const K = p.numTags;
  const { start, end, transitions } = p;
  const scores = new Float64Array(length * K * k);
  const fromTag = new Int32Array(length * K * k);
  const fromRank = new Int32Array(length * K * k);
  const counts = new Int32Array(length * K);
  for (let j = 0; j < K; j++) {
    const score = (start[j] as number) + (e[offset + j] as number);
    if (score > NEG_INF) {
      scores[j * k] = score;
      counts[j] = 1;
    }
  }
  for (let t = 1; t < length; t++) {
    const et = offset + t * K;
    for (let j = 0; j < K; j++) {
      const cell = (t * K + j) * k;
      let count = 0;
      for (let i = 0; i < K; i++) {
        const step = transitions[i * K + j] as number;
        if (step === NEG_INF) continue;
        const previous = ((t - 1) * K + i) * k;
        const available = counts[(t - 1) * K + i] as number;
        for (let r = 0; r < available; r++) {
          const score = (scores[previous + r] as number) + step + (e[et + j] as number);
          if (score === NEG_INF) break;
          if (count === k && score <= (scores[cell + k - 1] as number)) break;
          // Insert after equal scores so earlier candidates win ties.
          let position = count < k ? count : k - 1;
          while (position > 0 && (scores[cell + position - 1] as number) < score) {
            scores[cell + position] = scores[cell + position - 1] as number;
            fromTag[cell + position] = fromTag[cell + position - 1] as number;
            fromRank[cell + position] = fromRank[cell + position - 1] as number;
            position--;
          }
          scores[cell + position] = score;
          fromTag[cell + position] = i;
          fromRank[cell + position] = r;
          if (count < k) count++;
        }
      }
      counts[t * K + j] = count;
    }
  }
  // Final selection over (tag, rank) including the end scores.
  const finalScores: number[] = [];
  const finalTag: number[] = [];
  const finalRank: number[] = [];
  const lastRow = (length - 1) * K;
  for (let j = 0; j < K; j++) {
    if (end[j] === NEG_INF) continue;
    const cell = (lastRow + j) * k;
    for (let r = 0; r < (counts[lastRow + j] as number); r++) {
      const score = (scores[cell + r] as number) + (end[j] as number);
      if (finalScores.length === k && score <= (finalScores[k - 1] as number)) break;
      let position = finalScores.length < k ? finalScores.length : k - 1;
      if (finalScores.length < k) {
        finalScores.push(score);
        finalTag.push(j);
        finalRank.push(r);
      }
      while (position > 0 && (finalScores[position - 1] as number) < score) {
        finalScores[position] = finalScores[position - 1] as number;
        finalTag[position] = finalTag[position - 1] as number;
        finalRank[position] = finalRank[position - 1] as number;
        position--;
      }
      finalScores[position] = score;
      finalTag[position] = j;
      finalRank[position] = r;
    }
  }
  const result: ScoredPath[] = [];
  for (let n = 0; n < finalScores.length; n++) {
    const path = new Array<number>(length);
    let tag = finalTag[n] as number;
    let rank = finalRank[n] as number;
    for (let t = length - 1; t >= 0; t--) {
      path[t] = tag;
      if (t > 0) {
        const cell = (t * K + tag) * k + rank;
        tag = fromTag[cell] as number;
        rank = fromRank[cell] as number;
      }
    }
    result.push({ path, score: finalScores[n] as number });
  }
  return result;
}
