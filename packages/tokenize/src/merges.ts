import { show, TokenizeError } from "./errors.js";

/** A sequence of symbols (a pre-token split into pieces) and how often it occurs. */
export interface SymbolSequence {
  symbols: readonly string[];
  count: number;
}

/** One learned merge: `left` + `right` → `token`, with the pair's count when it was chosen. */
export interface LearnedMerge {
  left: string;
  right: string;
  token: string;
  count: number;
}

export interface LearnMergesOptions {
  /** Most merges to learn. */
  merges: number;
  /** Stop when the best pair occurs fewer times than this (default 2). */
  minFrequency?: number;
  /** The token two symbols merge into (default: concatenation). WordPiece drops the right side's `##`. */
  join?: (left: string, right: string) => string;
}

const SEP = "\u0001";

/**
 * Byte-pair-encoding merge learning (Sennrich et al. 2016): repeatedly merge the most frequent
 * adjacent pair of symbols, ties broken by the smaller `left + "\u0001" + right` in code-unit order,
 * so the result is deterministic. Pair counts are updated incrementally, only in sequences holding the
 * merged pair.
 */
export function learnMerges(
  sequences: readonly SymbolSequence[],
  options: LearnMergesOptions,
): LearnedMerge[] {
  const { merges } = options;
  const minFrequency = options.minFrequency ?? 2;
  const join = options.join ?? ((a: string, b: string) => a + b);
  if (!Number.isInteger(merges) || merges < 0)
    throw new TokenizeError("learnMerges", "options.merges", "an integer >= 0", show(merges));
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new TokenizeError("learnMerges", "options.minFrequency", "an integer >= 1", show(minFrequency));
  }
  const words = sequences.map((s) => [...s.symbols]);
  const counts = sequences.map((s) => s.count);
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const add = (w: number, key: string, n: number): void => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + n);
    let where = pairWords.get(key);
    if (where === undefined) {
      where = new Set();
      pairWords.set(key, where);
    }
    where.add(w);
  };
  const countWord = (w: number, sign: 1 | -1): void => {
    const symbols = words[w] ?? [];
    for (let i = 0; i + 1 < symbols.length; i++)
      add(w, `${symbols[i]}${SEP}${symbols[i + 1]}`, sign * (counts[w] ?? 0));
  };
  for (let w = 0; w < words.length; w++) countWord(w, 1);
  const learned: LearnedMerge[] = [];
  while (learned.length < merges) {
    let bestKey: string | undefined;
    let bestCount = 0;
    for (const [key, n] of pairCount) {
      if (n > bestCount || (n === bestCount && bestKey !== undefined && key < bestKey)) {
        bestKey = key;
        bestCount = n;
      }
    }
    if (bestKey === undefined || bestCount < minFrequency) break;
    const [left = "", right = ""] = bestKey.split(SEP);
    const token = join(left, right);
    learned.push({ left, right, token, count: bestCount });
    for (const w of [...(pairWords.get(bestKey) ?? [])]) {
      countWord(w, -1);
      const symbols = words[w] ?? [];
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(token);
          i += 1;
        } else merged.push(symbols[i] ?? "");
      }
      words[w] = merged;
      countWord(w, 1);
    }
    for (const [key, n] of pairCount) if (n <= 0) pairCount.delete(key);
    pairWords.delete(bestKey);
  }
  return learned;
}
