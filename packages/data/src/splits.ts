import { DataError, show } from "./errors.js";
import { seededPermutation, shuffled } from "./random.js";
import type { TaggedSentence } from "./types.js";

function checkSeed(fn: string, seed: unknown): number {
  if (typeof seed !== "number" || !Number.isInteger(seed))
    throw new DataError(fn, "options.seed", "an integer", show(seed));
  return seed;
}

/**
 * Sizes of the parts of `n` items split by `ratios` (normalised to sum 1), by largest remainder: the
 * sizes sum to `n` exactly, and ties go to the earlier part.
 */
export function splitSizes(n: number, ratios: readonly number[]): number[] {
  if (!Number.isInteger(n) || n < 0)
    throw new DataError("splitSizes", "n", "a non-negative integer", show(n));
  if (ratios.length === 0 || ratios.some((r) => !(r >= 0) || !Number.isFinite(r))) {
    throw new DataError("splitSizes", "ratios", "one or more finite ratios >= 0", `[${ratios.join(", ")}]`);
  }
  const total = ratios.reduce((a, b) => a + b, 0);
  if (total <= 0)
    throw new DataError("splitSizes", "ratios", "ratios with a positive sum", `[${ratios.join(", ")}]`);
  const exact = ratios.map((r) => (r / total) * n);
  const sizes = exact.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, rest: x - Math.floor(x) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    sizes[i] = (sizes[i] ?? 0) + 1;
    left -= 1;
  }
  return sizes;
}

export interface ResplitOptions {
  /** Relative sizes of the parts, e.g. `[0.8, 0.1, 0.1]`. */
  ratios: readonly number[];
  /** Seed of the shuffle; the same seed gives the same parts. */
  seed: number;
}

/** Shuffles `items` with `seed` and cuts them into parts of the given ratios (e.g. an 80/10/10 re-split). */
export function resplit<T>(items: readonly T[], options: ResplitOptions): T[][] {
  const seed = checkSeed("resplit", options.seed);
  const sizes = splitSizes(items.length, options.ratios);
  const order = shuffled(items, seed);
  const parts: T[][] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(order.slice(at, at + size));
    at += size;
  }
  return parts;
}

/**
 * The first `n` items in file order: the truncation used to sweep how much source data a transfer
 * experiment gets. Asking for more than there are is an error, never a silent clip.
 */
export function firstN<T>(items: readonly T[], n: number): T[] {
  if (!Number.isInteger(n) || n < 0 || n > items.length) {
    throw new DataError("firstN", "n", `an integer in [0, ${items.length}]`, show(n));
  }
  return items.slice(0, n);
}

/** `n` items drawn without replacement with `seed`, in their original order. */
export function sampleN<T>(items: readonly T[], n: number, seed: number): T[] {
  if (!Number.isInteger(n) || n < 0 || n > items.length) {
    throw new DataError("sampleN", "n", `an integer in [0, ${items.length}]`, show(n));
  }
  checkSeed("sampleN", seed);
  const chosen = seededPermutation(items.length, seed)
    .slice(0, n)
    .sort((a, b) => a - b);
  const set = new Set(chosen);
  return items.filter((_, i) => set.has(i));
}

export interface KShotOptions {
  seed: number;
  /**
   * The classes a sentence counts towards. Default: entity types of its IOB-style tags (`B-PER` →
   * `PER`, spans counted once each) when any tag has a prefix, else its tags (POS).
   */
  classesOf?: (sentence: TaggedSentence) => string[];
}

export interface KShotSample {
  sentences: TaggedSentence[];
  /** How many times each class occurs in the sample. */
  counts: Record<string, number>;
}

function defaultClasses(sentence: TaggedSentence): string[] {
  const out: string[] = [];
  for (const tag of sentence.tags) {
    const match = /^([BIESLU])-(.+)$/.exec(tag);
    if (match === null) {
      if (tag !== "O") out.push(tag);
    } else if (match[1] === "B" || match[1] === "S" || match[1] === "U") {
      out.push(match[2] ?? "");
    }
  }
  return out;
}

/**
 * A k-shot sample (greedy, after Yang & Katiyar 2020): sentences are visited in a seeded random order
 * and kept when they contain a class still seen fewer than `k` times, until every class that occurs
 * in `sentences` reaches `k` (or the sentences run out). Classes can exceed `k` when a kept sentence
 * holds several mentions; `counts` reports the result.
 */
export function kShot(sentences: readonly TaggedSentence[], k: number, options: KShotOptions): KShotSample {
  if (!Number.isInteger(k) || k < 1) throw new DataError("kShot", "k", "an integer >= 1", show(k));
  const seed = checkSeed("kShot", options.seed);
  const classesOf = options.classesOf ?? defaultClasses;
  const all = new Set<string>();
  for (const s of sentences) for (const c of classesOf(s)) all.add(c);
  const counts: Record<string, number> = Object.fromEntries([...all].sort().map((c) => [c, 0]));
  const chosen: number[] = [];
  let missing = all.size;
  for (const i of seededPermutation(sentences.length, seed)) {
    if (missing === 0) break;
    const sentence = sentences[i];
    if (sentence === undefined) continue;
    const classes = classesOf(sentence);
    if (!classes.some((c) => (counts[c] ?? 0) < k)) continue;
    chosen.push(i);
    for (const c of classes) {
      const before = counts[c] ?? 0;
      counts[c] = before + 1;
      if (before + 1 === k) missing -= 1;
    }
  }
  chosen.sort((a, b) => a - b);
  return {
    sentences: chosen.map((i) => sentences[i]).filter((s): s is TaggedSentence => s !== undefined),
    counts,
  };
}
