import { type Problem, pathScore } from "./problem.js";

export interface Agreement {
  /** Sequences whose path is identical to xlt's. */
  identical: number;
  /** Sequences with another path of the same score (within tolerance): a tie, both are right. */
  ties: number;
  /** Sequences where the peer's path scores worse than xlt's beyond tolerance (or has a wrong length). */
  disagreements: number;
}

/**
 * Compares a peer's Viterbi paths with xlt's. A different path counts as a tie when its float64
 * score is within `tolerance · max(1, |score|)` of xlt's path's score.
 */
export function comparePaths(
  problem: Problem,
  reference: readonly (readonly number[])[],
  peer: readonly (readonly number[])[],
  tolerance: number,
): Agreement {
  const result: Agreement = { identical: 0, ties: 0, disagreements: 0 };
  reference.forEach((path, b) => {
    const other = peer[b];
    if (other === undefined || other.length !== path.length) {
      result.disagreements++;
    } else if (other.every((tag, t) => tag === path[t])) {
      result.identical++;
    } else {
      const best = pathScore(problem, b, path);
      const gap = Math.abs(pathScore(problem, b, other) - best);
      if (gap <= tolerance * Math.max(1, Math.abs(best))) result.ties++;
      else result.disagreements++;
    }
  });
  return result;
}

/** The largest relative difference between two lists of numbers. */
export function maxRelativeError(a: readonly number[], b: readonly number[]): number {
  let worst = 0;
  a.forEach((x, index) => {
    const y = b[index] as number;
    worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)));
  });
  return worst;
}
