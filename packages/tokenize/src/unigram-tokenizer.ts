import { addedTokens } from "./added-tokens.js";
import { show, TokenizeError } from "./errors.js";
import { WordTokenizer } from "./tokenizer.js";
import { type CountedWord, trainUnigramPieces } from "./unigram.js";
import type { VocabularyResult } from "./vocabulary.js";

/** Options of {@link trainTokenizer} that only the Unigram model reads. */
export interface UnigramOptions {
  /** Unigram: special tokens, ids 0, 1, … in this order (default `["<pad>", "</s>"]`, as T5). */
  specialTokens?: readonly string[];
  /** Unigram: the unknown token (default `"<unk>"`); its id follows the special tokens unless it is one. */
  unkToken?: string;
  /** Unigram: longest piece in characters (code points, `▁` included; default 16, as SentencePiece). */
  maxPieceLength?: number;
  /** Unigram: fraction of pieces each pruning round keeps, in (0, 1) (default 0.75). */
  shrinkingFactor?: number;
  /** Unigram: EM iterations before each pruning round and at the end (default 2). */
  numEmIterations?: number;
  /** Unigram: how many multi-character substrings seed the vocabulary (default 1,000,000). */
  seedSize?: number;
}

const REPLACEMENT = "\u2581";

function skeleton(
  specials: readonly string[],
  unkId: number,
  vocab: readonly (readonly [string, number])[],
): Record<string, unknown> {
  const metaspace = { type: "Metaspace", replacement: REPLACEMENT, prepend_scheme: "always", split: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens(specials),
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, metaspace] },
    post_processor: null,
    decoder: metaspace,
    model: { type: "Unigram", unk_id: unkId, vocab, byte_fallback: false },
  };
}

function positiveInteger(value: unknown, argument: string, least: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < least) {
    throw new TokenizeError("trainTokenizer", argument, `an integer >= ${least}`, show(value));
  }
  return value;
}

/**
 * A SentencePiece-style Unigram tokenizer trained on pre-tokenized sentences (Kudo 2018; the
 * algorithm is in `unigram.ts`): no normalizer, whitespace split + Metaspace (`▁` before every word),
 * no post-processor (no special tokens are added when encoding), a Metaspace decoder. Vocabulary:
 * the special tokens (score 0), the unknown token, then the learned pieces, best first. Every
 * character of the training words is a piece, so every training word encodes without the unknown token.
 * `added[i].count` is the piece's expected count in the corpus (last E-step), not an integer.
 */
export function trainUnigram(
  sentences: Iterable<readonly string[]>,
  options: UnigramOptions & { vocabSize: number; minFrequency?: number },
): VocabularyResult {
  if (options.minFrequency !== undefined) {
    throw new TokenizeError(
      "trainTokenizer",
      "options.minFrequency",
      'undefined when model is "unigram"',
      show(options.minFrequency),
    );
  }
  const specialTokens = options.specialTokens ?? ["<pad>", "</s>"];
  if (
    !Array.isArray(specialTokens) ||
    specialTokens.some((t) => typeof t !== "string" || t === "") ||
    new Set(specialTokens).size !== specialTokens.length
  ) {
    throw new TokenizeError(
      "trainTokenizer",
      "options.specialTokens",
      "an array of distinct non-empty strings",
      Array.isArray(specialTokens) ? JSON.stringify(specialTokens).slice(0, 60) : show(specialTokens),
    );
  }
  const unkToken = options.unkToken ?? "<unk>";
  if (typeof unkToken !== "string" || unkToken === "") {
    throw new TokenizeError("trainTokenizer", "options.unkToken", "a non-empty string", show(unkToken));
  }
  const specials = specialTokens.includes(unkToken) ? [...specialTokens] : [...specialTokens, unkToken];
  const vocabSize = positiveInteger(options.vocabSize, "options.vocabSize", specials.length + 1);
  const maxPieceLength = positiveInteger(options.maxPieceLength ?? 16, "options.maxPieceLength", 1);
  const numEmIterations = positiveInteger(options.numEmIterations ?? 2, "options.numEmIterations", 1);
  const seedSize = positiveInteger(options.seedSize ?? 1_000_000, "options.seedSize", 0);
  const shrinkingFactor = options.shrinkingFactor ?? 0.75;
  if (typeof shrinkingFactor !== "number" || !(shrinkingFactor > 0 && shrinkingFactor < 1)) {
    throw new TokenizeError(
      "trainTokenizer",
      "options.shrinkingFactor",
      "a number in (0, 1)",
      show(shrinkingFactor),
    );
  }
  const unkId = specials.indexOf(unkToken);
  const config = { unk_token: unkToken };
  // Pre-tokenize with the skeleton's own pre-tokenizer, so training sees what encoding will.
  const empty = new WordTokenizer(
    skeleton(
      specials,
      unkId,
      specials.map((s) => [s, 0] as const),
    ),
    config,
  );
  const counts = new Map<string, number>();
  for (const words of sentences) {
    for (const word of words) {
      for (const preToken of empty.tokenizer.pre_tokenizer?.pre_tokenize(word, { section_index: 0 }) ?? [
        word,
      ]) {
        counts.set(preToken, (counts.get(preToken) ?? 0) + 1);
      }
    }
  }
  const words: CountedWord[] = [...counts].map(([word, count]) => ({ chars: [...word], count }));
  const taken = new Set(specials);
  const learned = trainUnigramPieces(words, {
    pieces: vocabSize - specials.length,
    maxPieceLength,
    shrinkingFactor,
    numEmIterations,
    seedSize,
  }).filter(({ piece }) => !taken.has(piece));
  const vocab: (readonly [string, number])[] = specials.map((s) => [s, 0] as const);
  const added = learned.map(({ piece, score, count }) => {
    vocab.push([piece, score]);
    return { token: piece, id: vocab.length - 1, count };
  });
  const json = skeleton(specials, unkId, vocab);
  return { json, tokenizer: new WordTokenizer(json, config), added };
}
