import { show, TokenizeError } from "./errors.js";
import type { EncodeWordsOptions, WordEncoding, WordTokenizer } from "./tokenizer.js";

export interface WindowOptions extends EncodeWordsOptions {
  /** Most tokens per window, special tokens included. */
  maxLength: number;
  /** Tokens shared by consecutive windows (at most; windows cut between words). Default 0. */
  stride?: number;
}

/** One window of a long sentence. `wordIds` index the whole sentence; words `[start, end)` lie inside. */
export interface EncodedWindow extends WordEncoding {
  start: number;
  end: number;
}

/**
 * Encodes a sentence too long for the model as overlapping windows of at most `maxLength` tokens.
 * Windows cut between words, never inside one, so each word lies whole in at least one window;
 * consecutive windows share up to `stride` tokens of context. A single word longer than a window is
 * an error (nothing is dropped silently).
 */
export function encodeWindows(
  tokenizer: WordTokenizer,
  words: readonly string[],
  options: WindowOptions,
): EncodedWindow[] {
  const { maxLength, stride = 0 } = options;
  const full = tokenizer.encodeWords(words, { ...options, addSpecialTokens: false });
  const specials = (options.addSpecialTokens ?? true) ? tokenizer.specialTokenCount : 0;
  const budget = maxLength - specials;
  if (!Number.isInteger(maxLength) || budget < 1) {
    throw new TokenizeError(
      "encodeWindows",
      "options.maxLength",
      `an integer > ${specials} (the special tokens)`,
      show(maxLength),
    );
  }
  if (!Number.isInteger(stride) || stride < 0 || stride >= budget) {
    throw new TokenizeError("encodeWindows", "options.stride", `an integer in [0, ${budget})`, show(stride));
  }
  // Token range of every word in the unwindowed encoding.
  const first = new Array<number>(words.length).fill(-1);
  const count = new Array<number>(words.length).fill(0);
  full.wordIds.forEach((w, i) => {
    if (w === null) return;
    if (first[w] === -1) first[w] = i;
    count[w] = (count[w] ?? 0) + 1;
  });
  count.forEach((n, w) => {
    if (n > budget) {
      throw new TokenizeError(
        "encodeWindows",
        `words[${w}]`,
        `a word of at most ${budget} tokens`,
        `${n} tokens`,
      );
    }
  });
  const windows: EncodedWindow[] = [];
  let start = 0;
  while (start < words.length || (start === 0 && windows.length === 0)) {
    let end = start;
    let tokens = 0;
    while (end < words.length && tokens + (count[end] ?? 0) <= budget) tokens += count[end++] ?? 0;
    windows.push(window(tokenizer, full, options, start, end, first, count));
    if (end >= words.length) break;
    let next = end;
    let shared = 0;
    while (next - 1 > start && shared + (count[next - 1] ?? 0) <= stride) shared += count[--next] ?? 0;
    start = next;
  }
  return windows;
}

function window(
  tokenizer: WordTokenizer,
  full: WordEncoding,
  options: EncodeWordsOptions,
  start: number,
  end: number,
  first: number[],
  count: number[],
): EncodedWindow {
  const from = start < end ? (first[start] ?? 0) : 0;
  const to = start < end ? (first[end - 1] ?? 0) + (count[end - 1] ?? 0) : 0;
  const inner: WordEncoding = {
    ids: full.ids.slice(from, to),
    tokens: full.tokens.slice(from, to),
    wordIds: full.wordIds.slice(from, to),
    attentionMask: full.attentionMask.slice(from, to),
    specialTokensMask: full.specialTokensMask.slice(from, to),
  };
  const framed = (options.addSpecialTokens ?? true) ? tokenizer.withSpecialTokens(inner) : inner;
  return { ...framed, start, end };
}

/**
 * Merges per-token predictions of the windows of one sentence back into one prediction per word. Each
 * word takes its first subword's prediction from the window where it has the most context (farthest
 * from that window's edges).
 */
export function mergeWindowPredictions<T>(
  windows: readonly EncodedWindow[],
  predictions: readonly ArrayLike<T>[],
  wordCount: number,
): T[] {
  if (predictions.length !== windows.length) {
    throw new TokenizeError(
      "mergeWindowPredictions",
      "predictions",
      `one array per window (${windows.length})`,
      String(predictions.length),
    );
  }
  if (!Number.isInteger(wordCount) || wordCount < 0) {
    throw new TokenizeError("mergeWindowPredictions", "wordCount", "an integer >= 0", show(wordCount));
  }
  const best = new Array<number>(wordCount).fill(-1);
  const out = new Array<T>(wordCount);
  windows.forEach((win, k) => {
    const tokens = predictions[k];
    if (tokens === undefined || tokens.length !== win.wordIds.length) {
      throw new TokenizeError(
        "mergeWindowPredictions",
        `predictions[${k}]`,
        `one prediction per token (${win.wordIds.length})`,
        String(tokens?.length),
      );
    }
    let previous: number | null = null;
    win.wordIds.forEach((w, i) => {
      if (w === null || w === previous) return;
      previous = w;
      if (w < 0 || w >= wordCount) {
        throw new TokenizeError(
          "mergeWindowPredictions",
          "wordCount",
          `more than word id ${w}`,
          String(wordCount),
        );
      }
      const context = Math.min(w - win.start, win.end - 1 - w);
      const value = tokens[i];
      if (context > (best[w] ?? -1) && value !== undefined) {
        best[w] = context;
        out[w] = value;
      }
    });
  });
  const missing = best.indexOf(-1);
  if (missing !== -1) {
    throw new TokenizeError("mergeWindowPredictions", "windows", `a window holding word ${missing}`, "none");
  }
  return out;
}
