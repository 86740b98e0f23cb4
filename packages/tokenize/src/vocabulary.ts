import { show, TokenizeError } from "./errors.js";
import { learnMerges, type SymbolSequence } from "./merges.js";
import { WordTokenizer } from "./tokenizer.js";

/** A token added to a vocabulary, with its new id and how often its merge occurred in the corpus. */
export interface AddedPiece {
  token: string;
  id: number;
  count: number;
}

/** An extended (or newly trained) tokenizer: its `tokenizer.json` object, the tokenizer, and what was added. */
export interface VocabularyResult {
  json: Record<string, unknown>;
  tokenizer: WordTokenizer;
  added: AddedPiece[];
}

export interface ExtendVocabularyOptions {
  /** How many new tokens to add (fewer when the corpus runs out of pairs seen `minFrequency` times). */
  newTokens: number;
  /** Only merge pairs seen at least this often (default 2). */
  minFrequency?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Pre-token piece sequences of a corpus with their counts, as the tokenizer segments them now. */
function segmentCorpus(tokenizer: WordTokenizer, sentences: Iterable<readonly string[]>): SymbolSequence[] {
  const counts = new Map<string, { symbols: string[]; count: number }>();
  for (const words of sentences) {
    words.forEach((word, w) => {
      for (const pieces of tokenizer.preTokenPieces(word, w === 0)) {
        const key = pieces.join("\u0001");
        const entry = counts.get(key);
        if (entry === undefined) counts.set(key, { symbols: pieces, count: 1 });
        else entry.count += 1;
      }
    });
  }
  return [...counts.values()];
}

function largestId(json: Record<string, unknown>, model: Record<string, unknown>): number {
  let largest = -1;
  const vocab = model["vocab"];
  if (Array.isArray(vocab)) largest = vocab.length - 1;
  else if (isRecord(vocab))
    for (const id of Object.values(vocab)) if (typeof id === "number") largest = Math.max(largest, id);
  const added = json["added_tokens"];
  if (Array.isArray(added))
    for (const t of added)
      if (isRecord(t) && typeof t["id"] === "number") largest = Math.max(largest, t["id"]);
  return largest;
}

/**
 * Vocabulary extension for a low-resource language: segments `sentences` with the tokenizer as it is,
 * learns byte-pair merges on top of that segmentation (never across pre-token boundaries), and adds
 * the merged pieces as new tokens with ids after every existing one, so an existing model keeps its
 * embeddings and only needs new rows. WordPiece gets the pieces in its vocabulary (greedy longest
 * match then prefers them), BPE gets vocabulary entries and merges ranked after all existing ones,
 * Unigram gets pieces scored just above the split they replace. Existing ids never change.
 */
export function extendVocabulary(
  tokenizer: WordTokenizer,
  sentences: Iterable<readonly string[]>,
  options: ExtendVocabularyOptions,
): VocabularyResult {
  const { newTokens } = options;
  if (!Number.isInteger(newTokens) || newTokens < 0) {
    throw new TokenizeError("extendVocabulary", "options.newTokens", "an integer >= 0", show(newTokens));
  }
  const json = tokenizer.toJSON();
  const model = json["model"];
  if (!isRecord(model))
    throw new TokenizeError("extendVocabulary", "tokenizer.model", "a model object", show(model));
  const prefix =
    typeof model["continuing_subword_prefix"] === "string" ? model["continuing_subword_prefix"] : "##";
  const join =
    tokenizer.model === "wordpiece"
      ? (a: string, b: string) => a + (b.startsWith(prefix) ? b.slice(prefix.length) : b)
      : (a: string, b: string) => a + b;
  const sequences = segmentCorpus(tokenizer, sentences);
  const learned = learnMerges(sequences, {
    merges: newTokens * 4 + 16,
    minFrequency: options.minFrequency ?? 2,
    join,
  });
  let next = largestId(json, model) + 1;
  const added: AddedPiece[] = [];
  const has = (token: string): boolean =>
    tokenizer.tokenToId(token) !== undefined || added.some((a) => a.token === token);
  const kept: typeof learned = [];
  for (const merge of learned) {
    if (added.length === newTokens) break;
    kept.push(merge);
    if (!has(merge.token)) added.push({ token: merge.token, id: next++, count: merge.count });
  }
  const vocab = model["vocab"];
  if (
    tokenizer.model === "unigram" &&
    Array.isArray(vocab) &&
    added.length > 0 &&
    added[0]?.id !== vocab.length
  ) {
    throw new TokenizeError(
      "extendVocabulary",
      "tokenizer.added_tokens",
      `ids below the vocabulary size (${vocab.length})`,
      `id ${(added[0]?.id ?? 1) - 1}`,
    );
  }
  if (tokenizer.model === "unigram" && Array.isArray(vocab)) {
    const scores = new Map<string, number>();
    let lowest = 0;
    for (const entry of vocab) {
      if (Array.isArray(entry) && typeof entry[0] === "string" && typeof entry[1] === "number") {
        scores.set(entry[0], entry[1]);
        lowest = Math.min(lowest, entry[1]);
      }
    }
    for (const merge of kept) {
      const score = (scores.get(merge.left) ?? lowest) + (scores.get(merge.right) ?? lowest) + 1;
      if (!scores.has(merge.token)) {
        scores.set(merge.token, score);
        vocab.push([merge.token, score]);
      }
    }
  } else if (isRecord(vocab)) {
    for (const piece of added) vocab[piece.token] = piece.id;
    const merges = model["merges"];
    if (tokenizer.model === "bpe" && Array.isArray(merges)) {
      const asStrings = merges.length === 0 || typeof merges[0] === "string";
      const existing = new Set(merges.map((m) => (Array.isArray(m) ? m.join(" ") : String(m))));
      for (const merge of kept) {
        const key = `${merge.left} ${merge.right}`;
        if (existing.has(key)) continue;
        existing.add(key);
        merges.push(asStrings ? key : [merge.left, merge.right]);
      }
    }
  } else {
    throw new TokenizeError(
      "extendVocabulary",
      "tokenizer.model.vocab",
      "a vocabulary object or array",
      show(vocab),
    );
  }
  return { json, tokenizer: new WordTokenizer(json, tokenizer.configJSON()), added };
}
