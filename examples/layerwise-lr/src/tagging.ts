import type { TaggedSentence } from "@xlt/data";
import { gather, reshape, type Tensor } from "@xlt/graph";
import type { Batch } from "@xlt/runtime";
import { alignLabels, type WordEncoding } from "@xlt/tokenize";
import { StudyError } from "./errors.js";

/** What the study needs of a tokenizer (`WordTokenizer` of `@xlt/tokenize` fits). */
export interface WordEncoder {
  encodeWords(words: readonly string[]): WordEncoding;
}

/** One sentence ready for the tagger: its subword ids, word ids and first-subword labels. */
export interface EncodedSentence {
  readonly ids: readonly number[];
  /** Word index of each token, `null` for special tokens. */
  readonly wordIds: readonly (number | null)[];
  /** Tag id on each word's first subword, -100 elsewhere. */
  readonly labels: readonly number[];
  /** Gold tag ids of all the sentence's words (also those cut off by `maxTokens`). */
  readonly gold: readonly number[];
}

/**
 * Encodes tagged sentences: subwords with the tokenizer's special tokens, labels on each word's first
 * subword (as the study and Hugging Face's token-classification recipe do). A sentence longer than
 * `maxTokens` keeps its first `maxTokens - 1` tokens and the final special token; the words cut off
 * count as errors when scoring (never silently dropped). An unknown tag is an error.
 */
export function encodeTagged(
  tokenizer: WordEncoder,
  sentences: readonly TaggedSentence[],
  tags: readonly string[],
  maxTokens: number,
): EncodedSentence[] {
  const tagIds = new Map(tags.map((tag, index) => [tag, index]));
  return sentences.map((sentence, index) => {
    const gold = sentence.tags.map((tag) => {
      const id = tagIds.get(tag);
      if (id === undefined)
        throw new StudyError(
          "encodeTagged",
          `sentences[${index}].tags`,
          `tags among ${tags.join(" ")}`,
          JSON.stringify(tag),
        );
      return id;
    });
    const encoding = tokenizer.encodeWords(sentence.words);
    let ids = encoding.ids;
    let wordIds = encoding.wordIds;
    if (ids.length > maxTokens) {
      ids = [...ids.slice(0, maxTokens - 1), ids[ids.length - 1] as number];
      wordIds = [...wordIds.slice(0, maxTokens - 1), null];
    }
    const covered = Math.max(-1, ...wordIds.map((word) => word ?? -1)) + 1;
    const labels = alignLabels(wordIds, gold.slice(0, covered), { strategy: "first" });
    return { ids, wordIds, labels, gold };
  });
}

/** Right-padded int64 `ids` and `labels` (-100 on padding) and a bool `mask`, `[batch, steps]`. */
export function taggingBatch(sentences: readonly EncodedSentence[], padId: number): Batch {
  const steps = Math.max(1, ...sentences.map((sentence) => sentence.ids.length));
  const size = sentences.length * steps;
  const ids = new BigInt64Array(size).fill(BigInt(padId));
  const labels = new BigInt64Array(size).fill(-100n);
  const mask = new Uint8Array(size);
  for (const [row, sentence] of sentences.entries()) {
    for (const [t, id] of sentence.ids.entries()) {
      ids[row * steps + t] = BigInt(id);
      labels[row * steps + t] = BigInt(sentence.labels[t] as number);
      mask[row * steps + t] = 1;
    }
  }
  const dims = [sentences.length, steps];
  return { ids: { data: ids, dims }, labels: { data: labels, dims }, mask: { data: mask, dims } };
}

/** Batches of `size` sentences in `order` (indices into `sentences`). */
export function taggingBatches(
  sentences: readonly EncodedSentence[],
  order: readonly number[],
  size: number,
  padId: number,
): Batch[] {
  const batches: Batch[] = [];
  for (let start = 0; start < order.length; start += size) {
    batches.push(
      taggingBatch(
        order.slice(start, start + size).map((index) => sentences[index] as EncodedSentence),
        padId,
      ),
    );
  }
  return batches;
}

/**
 * Word accuracy of one batch's logits `[batch, steps, tags]` (float32): each word is predicted at its
 * first subword; words cut off by truncation count as wrong. Returns correct and total words.
 */
export function scoreBatch(
  sentences: readonly EncodedSentence[],
  logits: { readonly data: ArrayLike<number>; readonly dims: readonly number[] },
): { correct: number; total: number } {
  const [batch, steps, classes] = logits.dims as [number, number, number];
  if (
    logits.dims.length !== 3 ||
    batch !== sentences.length ||
    logits.data.length !== batch * steps * classes
  )
    throw new StudyError(
      "scoreBatch",
      "logits",
      `[${sentences.length}, steps, tags] logits`,
      `[${logits.dims.join(", ")}] with ${logits.data.length} values`,
    );
  let correct = 0;
  let total = 0;
  for (const [row, sentence] of sentences.entries()) {
    const seen = new Set<number>();
    for (const [t, word] of sentence.wordIds.entries()) {
      if (word === null || seen.has(word)) continue;
      seen.add(word);
      let best = 0;
      const offset = (row * steps + t) * classes;
      for (let c = 1; c < classes; c += 1)
        if ((logits.data[offset + c] as number) > (logits.data[offset + best] as number)) best = c;
      if (best === sentence.gold[word]) correct += 1;
    }
    total += sentence.gold.length;
  }
  return { correct, total };
}

/** The token position of each word's first subword, for the words truncation kept. */
export function firstSubwords(sentence: EncodedSentence): number[] {
  const first: number[] = [];
  for (const [t, word] of sentence.wordIds.entries()) if (word === first.length) first.push(t);
  return first;
}

/**
 * A word-level batch for a head over words (the CRF): `ids` and `mask` as {@link taggingBatch}, and
 * `[batch, words]` int64 `first` (each word's first subword as a row of the flattened
 * `[batch · steps]` tokens, the row's first token on padding), int64 `tags` (gold, 0 on padding)
 * and bool `words` (true on the words truncation kept, a prefix of each row).
 */
export function wordBatch(sentences: readonly EncodedSentence[], padId: number): Batch {
  const { labels: _, ...tokens } = taggingBatch(sentences, padId);
  const steps = Math.max(1, ...sentences.map((sentence) => sentence.ids.length));
  const firsts = sentences.map(firstSubwords);
  const width = Math.max(1, ...firsts.map((first) => first.length));
  const size = sentences.length * width;
  const first = new BigInt64Array(size);
  const tags = new BigInt64Array(size);
  const words = new Uint8Array(size);
  for (const [row, positions] of firsts.entries()) {
    first.fill(BigInt(row * steps), row * width, (row + 1) * width);
    for (const [word, t] of positions.entries()) {
      first[row * width + word] = BigInt(row * steps + t);
      tags[row * width + word] = BigInt((sentences[row] as EncodedSentence).gold[word] as number);
      words[row * width + word] = 1;
    }
  }
  const dims = [sentences.length, width];
  return {
    ...tokens,
    first: { data: first, dims },
    tags: { data: tags, dims },
    words: { data: words, dims },
  };
}

/** Word batches of `size` sentences in `order` (indices into `sentences`). */
export function wordBatches(
  sentences: readonly EncodedSentence[],
  order: readonly number[],
  size: number,
  padId: number,
): Batch[] {
  const batches: Batch[] = [];
  for (let start = 0; start < order.length; start += size)
    batches.push(
      wordBatch(
        order.slice(start, start + size).map((index) => sentences[index] as EncodedSentence),
        padId,
      ),
    );
  return batches;
}

/**
 * Word features: the hidden state `[batch, steps, size]` at each word's first subword, picked by
 * {@link wordBatch}'s `first` → `[batch, words, size]`.
 */
export function wordFeatures(hidden: Tensor, first: Tensor, size: number): Tensor {
  return gather(reshape(hidden, [-1, size]), first);
}

/**
 * Word accuracy of decoded word tags (one path per sentence over the words truncation kept); the
 * words cut off count as wrong. Returns correct and total words.
 */
export function scorePaths(
  sentences: readonly EncodedSentence[],
  paths: readonly (readonly number[])[],
): { correct: number; total: number } {
  let correct = 0;
  let total = 0;
  for (const [row, sentence] of sentences.entries()) {
    const path = paths[row];
    const kept = firstSubwords(sentence).length;
    if (path?.length !== kept)
      throw new StudyError(
        "scorePaths",
        `paths[${row}]`,
        `${kept} tags (the sentence's kept words)`,
        path ? `${path.length} tags` : "none",
      );
    for (const [word, tag] of path.entries()) if (tag === sentence.gold[word]) correct += 1;
    total += sentence.gold.length;
  }
  return { correct, total };
}
