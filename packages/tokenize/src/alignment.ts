import { show, TokenizeError } from "./errors.js";

/**
 * Which subword tokens of a word carry its label: the first, the last, or all of them (continuations
 * turned from `B-X` into `I-X`, and `S-X`/`U-X`/`E-X`/`L-X` spread so that the subword sequence is
 * itself well-formed in the same scheme).
 */
export type AlignStrategy = "first" | "all" | "last";

export interface AlignLabelsOptions {
  /** Default `"first"`. */
  strategy?: AlignStrategy;
}

export interface AlignLabelIdsOptions extends AlignLabelsOptions {
  /**
   * Label id of tokens that carry no label (special tokens, non-first subwords); a negative integer,
   * default -100. A word labelled exactly `ignoreIndex` gets it on all its tokens.
   */
  ignoreIndex?: number;
  /**
   * Names of the label ids (`labelNames[id]`), needed with `strategy: "all"` to turn `B-X` into `I-X`
   * on continuation subwords.
   */
  labelNames?: readonly string[];
}

export interface WordPredictionsOptions extends AlignLabelsOptions {
  /** Number of words (default: the largest word id + 1). */
  wordCount?: number;
  /** Names of label ids, for `strategy: "all"` on label-id predictions. */
  labelNames?: readonly string[];
}

const PREFIXED = /^([BIESLU])-(.+)$/;

/** The label of each of `pieces` subwords of a word labelled `label` under strategy "all". */
function spread(label: string, pieces: number): string[] {
  const match = PREFIXED.exec(label);
  if (pieces === 1 || match === null) return new Array<string>(pieces).fill(label);
  const [, prefix, type] = match;
  const inside = `I-${type}`;
  const out = new Array<string>(pieces).fill(inside);
  if (prefix === "B" || prefix === "S" || prefix === "U") out[0] = `B-${type}`;
  if (prefix === "E" || prefix === "S") out[pieces - 1] = `E-${type}`;
  if (prefix === "L" || prefix === "U") out[pieces - 1] = `L-${type}`;
  return out;
}

/** Inverse of {@link spread}: the word label from its first and last subword labels. */
function gather(first: string, last: string): string {
  const a = PREFIXED.exec(first);
  const b = PREFIXED.exec(last);
  if (a === null || b === null || a[2] !== b[2]) return first;
  const key = `${a[1]}${b[1]}`;
  const word: Record<string, string> = { BE: "S", BL: "U", IE: "E", IL: "L", BI: "B", II: "I" };
  const prefix = word[key];
  return prefix === undefined ? first : `${prefix}-${a[2]}`;
}

/** Token positions of each word, validating word ids against the number of labels. */
function wordSpans(fn: string, wordIds: readonly (number | null)[], words: number): number[][] {
  const spans: number[][] = Array.from({ length: words }, () => []);
  let previous = -1;
  for (let i = 0; i < wordIds.length; i++) {
    const w = wordIds[i];
    if (w === null || w === undefined) continue;
    if (!Number.isInteger(w) || w < 0 || w >= words) {
      throw new TokenizeError(fn, `wordIds[${i}]`, `null or a word index in [0, ${words})`, show(w));
    }
    if (w < previous)
      throw new TokenizeError(fn, `wordIds[${i}]`, `word ids in order (>= ${previous})`, show(w));
    const span = spans[w];
    if (span !== undefined) {
      if (span.length > 0 && span[span.length - 1] !== i - 1) {
        throw new TokenizeError(fn, `wordIds[${i}]`, `the tokens of word ${w} next to each other`, "a gap");
      }
      span.push(i);
    }
    previous = w;
  }
  return spans;
}

/**
 * Token positions of each word for {@link alignLabels}: every word must have at least one token, or its
 * label would be lost (this is what happens to the words cut off by truncation).
 */
function coveredSpans(wordIds: readonly (number | null)[], words: number): number[][] {
  const spans = wordSpans("alignLabels", wordIds, words);
  const missing = spans.findIndex((span) => span.length === 0);
  if (missing !== -1) {
    const covered = spans.filter((span) => span.length > 0).length;
    throw new TokenizeError(
      "alignLabels",
      "wordIds",
      `a token for every word (word ${missing} has none; encode long sentences with encodeWindows)`,
      `tokens for ${covered} of ${words} words`,
    );
  }
  return spans;
}

function alignStrings(
  wordIds: readonly (number | null)[],
  wordLabels: readonly string[],
  strategy: AlignStrategy,
): (string | null)[] {
  const out = new Array<string | null>(wordIds.length).fill(null);
  coveredSpans(wordIds, wordLabels.length).forEach((span, w) => {
    const label = wordLabels[w] ?? "";
    if (strategy === "first") out[span[0] ?? 0] = label;
    else if (strategy === "last") out[span[span.length - 1] ?? 0] = label;
    else {
      const labels = spread(label, span.length);
      for (let k = 0; k < span.length; k++) out[span[k] ?? 0] = labels[k] ?? label;
    }
  });
  return out;
}

function alignIds(
  wordIds: readonly (number | null)[],
  wordLabels: readonly number[],
  strategy: AlignStrategy,
  options: AlignLabelIdsOptions,
): number[] {
  const ignore = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignore) || ignore >= 0) {
    throw new TokenizeError("alignLabels", "options.ignoreIndex", "a negative integer", show(ignore));
  }
  const names = options.labelNames;
  if (strategy === "all" && names === undefined) {
    throw new TokenizeError(
      "alignLabels",
      "options.labelNames",
      'label names with strategy "all" and label ids',
      "undefined",
    );
  }
  wordLabels.forEach((id, w) => {
    if (id === ignore) return;
    const limit = names === undefined ? "" : `, < ${names.length}`;
    if (!Number.isInteger(id) || id < 0 || (names !== undefined && id >= names.length)) {
      throw new TokenizeError(
        "alignLabels",
        `wordLabels[${w}]`,
        `a label id (an integer >= 0${limit}) or ignoreIndex (${ignore})`,
        show(id),
      );
    }
  });
  const byName = new Map((names ?? []).map((name, id) => [name, id]));
  const out = new Array<number>(wordIds.length).fill(ignore);
  coveredSpans(wordIds, wordLabels.length).forEach((span, w) => {
    const id = wordLabels[w] ?? ignore;
    if (id === ignore) return;
    if (strategy === "first") out[span[0] ?? 0] = id;
    else if (strategy === "last") out[span[span.length - 1] ?? 0] = id;
    else {
      const name = names?.[id] ?? "";
      spread(name, span.length).forEach((piece, k) => {
        const pieceId = byName.get(piece);
        if (pieceId === undefined) {
          throw new TokenizeError(
            "alignLabels",
            "options.labelNames",
            `a label named ${show(piece)}`,
            "none",
          );
        }
        out[span[k] ?? 0] = pieceId;
      });
    }
  });
  return out;
}

function checkStrategy(fn: string, strategy: unknown): AlignStrategy {
  if (strategy === "first" || strategy === "all" || strategy === "last") return strategy;
  throw new TokenizeError(fn, "options.strategy", '"first", "all" or "last"', show(strategy));
}

/**
 * Spreads word labels over subword tokens. `wordIds` is {@link WordEncoding.wordIds}. String labels
 * give `null` where a token carries no label; label ids give `ignoreIndex` (default -100, the
 * cross-entropy ignore index).
 *
 * Every word `0 … wordLabels.length - 1` needs at least one token in `wordIds`; a word without one
 * (e.g. cut off by truncation) is an error, never a silently lost label. Encode sentences longer than
 * the model with {@link encodeWindows} and align each window's words
 * (`wordLabels.slice(window.start, window.end)`, word ids minus `window.start`).
 *
 * Label ids must be integers >= 0 (below `labelNames.length` when given). A word labelled exactly
 * `ignoreIndex` passes through: all its tokens get `ignoreIndex` (a word left out of the loss).
 */
export function alignLabels(
  wordIds: readonly (number | null)[],
  wordLabels: readonly string[],
  options?: AlignLabelsOptions,
): (string | null)[];
export function alignLabels(
  wordIds: readonly (number | null)[],
  wordLabels: readonly number[],
  options?: AlignLabelIdsOptions,
): number[];
export function alignLabels(
  wordIds: readonly (number | null)[],
  wordLabels: readonly string[] | readonly number[],
  options: AlignLabelIdsOptions = {},
): (string | null)[] | number[] {
  const strategy = checkStrategy("alignLabels", options.strategy ?? "first");
  const strings: string[] = [];
  const ids: number[] = [];
  for (const label of wordLabels) {
    if (typeof label === "string") strings.push(label);
    else ids.push(label);
  }
  if (ids.length === 0) return alignStrings(wordIds, strings, strategy);
  if (strings.length > 0) {
    throw new TokenizeError("alignLabels", "wordLabels", "all strings or all label ids", "a mix");
  }
  return alignIds(wordIds, ids, strategy, options);
}

/**
 * One prediction per word from one prediction per token, the inverse of {@link alignLabels}: the
 * first (or last) subword's prediction, or with `"all"` the word label rebuilt from its first and last
 * subword labels (`B-X … E-X` → `S-X`; string labels, or label ids with `labelNames`). Special tokens
 * (`null` word ids) are skipped. A word with no token is an error.
 */
export function wordPredictions(
  wordIds: readonly (number | null)[],
  tokenPredictions: readonly string[],
  options?: WordPredictionsOptions,
): string[];
export function wordPredictions<T>(
  wordIds: readonly (number | null)[],
  tokenPredictions: ArrayLike<T>,
  options?: WordPredictionsOptions,
): T[];
export function wordPredictions(
  wordIds: readonly (number | null)[],
  tokenPredictions: ArrayLike<unknown>,
  options: WordPredictionsOptions = {},
): unknown[] {
  const strategy = checkStrategy("wordPredictions", options.strategy ?? "first");
  if (tokenPredictions.length !== wordIds.length) {
    throw new TokenizeError(
      "wordPredictions",
      "tokenPredictions",
      `one prediction per token (${wordIds.length})`,
      String(tokenPredictions.length),
    );
  }
  let largest = -1;
  for (const w of wordIds) if (w !== null && w > largest) largest = w;
  const words = options.wordCount ?? largest + 1;
  const spans = wordSpans("wordPredictions", wordIds, words);
  const names = options.labelNames;
  const byName = new Map((names ?? []).map((name, id) => [name, id]));
  return spans.map((span, w) => {
    if (span.length === 0)
      throw new TokenizeError("wordPredictions", "wordIds", `a token for word ${w}`, "none");
    const first = tokenPredictions[span[0] ?? 0];
    const last = tokenPredictions[span[span.length - 1] ?? 0];
    if (strategy === "first") return first;
    if (strategy === "last") return last;
    if (typeof first === "string" && typeof last === "string") return gather(first, last);
    if (typeof first === "number" && typeof last === "number" && names !== undefined) {
      const word = gather(names[first] ?? "", names[last] ?? "");
      return byName.get(word) ?? first;
    }
    return first;
  });
}
