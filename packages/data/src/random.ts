/**
 * A seeded pseudo-random generator (SplitMix32 over a 32-bit state; Steele, Lea & Flood 2014, as
 * adapted for 32 bits): the same seed gives the same stream on every platform.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

/** A seeded Fisher–Yates permutation of `0 … n-1`. */
export function seededPermutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = order[i] ?? i;
    order[i] = order[j] ?? j;
    order[j] = a;
  }
  return order;
}

/** A seeded shuffle; returns a new array. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const position = seededPermutation(items.length, seed);
  const out = new Array<T>(items.length);
  items.forEach((item, i) => {
    out[position[i] ?? i] = item;
  });
  return out;
}
