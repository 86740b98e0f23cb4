/** Ranks 1..n with ties given their average rank (scipy `rankdata(method="average")`). */
export function rankAverage(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]!] === x[order[i]!]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** The sizes of the groups of equal values (1 for values that are not tied). */
export function tieGroupSizes(x: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(x).sort();
  const sizes: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[i]) j++;
    sizes.push(j - i + 1);
    i = j + 1;
  }
  return sizes;
}
