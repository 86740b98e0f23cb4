/**
 * Brute-force oracle: enumerates every one of the K^L tag sequences of a short sequence. Written for
 * clarity, sharing no code with the package, so it can check every algorithm.
 */
export interface BruteCrf {
  K: number;
  transitions: number[][];
  start: number[];
  end: number[];
  allowed?: { transitions: boolean[][]; start: boolean[]; end: boolean[] };
}

export function allPaths(K: number, length: number): number[][] {
  let paths: number[][] = [[]];
  for (let t = 0; t < length; t++)
    paths = paths.flatMap((path) => Array.from({ length: K }, (_, j) => [...path, j]));
  return paths;
}

/** Score of a path, -Infinity when a constraint forbids it. */
export function pathScore(crf: BruteCrf, emissions: number[][], path: number[]): number {
  const { allowed } = crf;
  const first = path[0] as number;
  const last = path[path.length - 1] as number;
  if (allowed && (!allowed.start[first] || !allowed.end[last])) return Number.NEGATIVE_INFINITY;
  let score = (crf.start[first] as number) + (crf.end[last] as number);
  for (let t = 0; t < path.length; t++) {
    const tag = path[t] as number;
    score += emissions[t]?.[tag] as number;
    if (t > 0) {
      const from = path[t - 1] as number;
      if (allowed && !allowed.transitions[from]?.[tag]) return Number.NEGATIVE_INFINITY;
      score += crf.transitions[from]?.[tag] as number;
    }
  }
  return score;
}

export function logSumExp(values: number[]): number {
  const max = Math.max(...values);
  if (max === Number.NEGATIVE_INFINITY) return max;
  return max + Math.log(values.reduce((sum, value) => sum + Math.exp(value - max), 0));
}

/** `labelOk(t, j)` says whether tag j is consistent with the labels at step t. */
export type LabelFilter = (t: number, j: number) => boolean;

export interface BruteResult {
  logZ: number;
  best: { path: number[]; score: number };
  ranked: { path: number[]; score: number }[];
  marginals: number[][];
  /** Expected feature counts under p(y|x) restricted to paths passing `filter` (all when absent). */
  expected: (filter?: LabelFilter) => {
    logZ: number;
    unary: number[][];
    pairwise: number[][];
    start: number[];
    end: number[];
  };
}

export function bruteForce(crf: BruteCrf, emissions: number[][]): BruteResult {
  const { K } = crf;
  const length = emissions.length;
  const scored = allPaths(K, length)
    .map((path) => ({ path, score: pathScore(crf, emissions, path) }))
    .filter((entry) => entry.score > Number.NEGATIVE_INFINITY);
  const ranked = [...scored].sort((a, b) => b.score - a.score);
  const expected = (filter?: LabelFilter) => {
    const kept = filter ? scored.filter(({ path }) => path.every((j, t) => filter(t, j))) : scored;
    const logZ = logSumExp(kept.map((entry) => entry.score));
    const unary = Array.from({ length }, () => new Array<number>(K).fill(0));
    const pairwise = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    const start = new Array<number>(K).fill(0);
    const end = new Array<number>(K).fill(0);
    for (const { path, score } of kept) {
      const p = Math.exp(score - logZ);
      path.forEach((j, t) => {
        (unary[t] as number[])[j] = ((unary[t] as number[])[j] as number) + p;
        if (t > 0) {
          const i = path[t - 1] as number;
          (pairwise[i] as number[])[j] = ((pairwise[i] as number[])[j] as number) + p;
        }
      });
      start[path[0] as number] = (start[path[0] as number] as number) + p;
      end[path[length - 1] as number] = (end[path[length - 1] as number] as number) + p;
    }
    return { logZ, unary, pairwise, start, end };
  };
  const all = expected();
  return {
    logZ: all.logZ,
    best: ranked[0] ?? { path: [], score: Number.NEGATIVE_INFINITY },
    ranked,
    marginals: all.unary,
    expected,
  };
}
