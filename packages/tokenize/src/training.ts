import { addedTokens } from "./added-tokens.js";
import { show, TokenizeError } from "./errors.js";
import { learnMerges } from "./merges.js";
import { WordTokenizer } from "./tokenizer.js";
import { trainUnigram, type UnigramOptions } from "./unigram-tokenizer.js";
import type { VocabularyResult } from "./vocabulary.js";

/** The kinds of tokenizer {@link trainTokenizer} builds. */
export type TrainableModel = "wordpiece" | "bpe" | "unigram";

export interface TrainTokenizerOptions extends UnigramOptions {
  model: TrainableModel;
  /**
   * Vocabulary size to reach (special tokens, the unknown token and the alphabet included). WordPiece
   * and BPE: fewer when pairs run out. Unigram: exactly this, unless the corpus has more distinct
   * characters than `vocabSize` minus the special tokens (then every character, plus the specials),
   * or fewer candidate pieces (distinct substrings of at most `maxPieceLength`, at most `seedSize` of
   * them with two or more characters: then all of them).
   */
  vocabSize: number;
  /** WordPiece and BPE: only merge pairs seen at least this often (default 2). */
  minFrequency?: number;
}

/** GPT-2's byte-to-character table: printable bytes map to themselves, the rest to U+0100 onwards. */
export function byteLevelAlphabet(): string[] {
  const printable = (b: number): boolean =>
    (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return out;
}

const UNIGRAM_ONLY = [
  "specialTokens",
  "unkToken",
  "maxPieceLength",
  "shrinkingFactor",
  "numEmIterations",
  "seedSize",
] as const;

const BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
const BPE_SPECIALS = ["<|endoftext|>"];

function skeleton(
  model: "wordpiece" | "bpe",
  vocab: Record<string, number>,
  merges: string[][],
): Record<string, unknown> {
  if (model === "wordpiece") {
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: addedTokens(BERT_SPECIALS),
      normalizer: {
        type: "BertNormalizer",
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: false,
      },
      pre_tokenizer: { type: "BertPreTokenizer" },
      post_processor: {
        type: "TemplateProcessing",
        single: [
          { SpecialToken: { id: "[CLS]", type_id: 0 } },
          { Sequence: { id: "A", type_id: 0 } },
          { SpecialToken: { id: "[SEP]", type_id: 0 } },
        ],
        pair: [
          { SpecialToken: { id: "[CLS]", type_id: 0 } },
          { Sequence: { id: "A", type_id: 0 } },
          { SpecialToken: { id: "[SEP]", type_id: 0 } },
          { Sequence: { id: "B", type_id: 1 } },
          { SpecialToken: { id: "[SEP]", type_id: 1 } },
        ],
        special_tokens: {
          "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
          "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
        },
      },
      decoder: { type: "WordPiece", prefix: "##", cleanup: true },
      model: {
        type: "WordPiece",
        unk_token: "[UNK]",
        continuing_subword_prefix: "##",
        max_input_chars_per_word: 100,
        vocab,
      },
    };
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens(BPE_SPECIALS),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/**
 * Trains a new tokenizer on pre-tokenized sentences, in plain TypeScript: a BERT-style WordPiece
 * tokenizer (BertNormalizer without lowercasing, BertPreTokenizer, `##` continuations, `[CLS] … [SEP]`;
 * pieces learned by byte-pair merges as Hugging Face's WordPiece trainer does) or a GPT-2-style
 * byte-level BPE, or a SentencePiece-style Unigram tokenizer (Metaspace `▁`, pieces and scores from
 * EM and likelihood pruning, see {@link trainUnigram}). The result is a `tokenizer.json` object that
 * `@huggingface/tokenizers` and the Rust library both load.
 */
export function trainTokenizer(
  sentences: Iterable<readonly string[]>,
  options: TrainTokenizerOptions,
): VocabularyResult {
  const { model, vocabSize } = options;
  if (model === "unigram") return trainUnigram(sentences, options);
  if (model !== "wordpiece" && model !== "bpe") {
    throw new TokenizeError(
      "trainTokenizer",
      "options.model",
      '"wordpiece", "bpe" or "unigram"',
      show(model),
    );
  }
  for (const name of UNIGRAM_ONLY) {
    if (options[name] !== undefined) {
      throw new TokenizeError(
        "trainTokenizer",
        `options.${name}`,
        'undefined unless model is "unigram"',
        show(options[name]),
      );
    }
  }
  const specials = model === "wordpiece" ? BERT_SPECIALS : BPE_SPECIALS;
  if (!Number.isInteger(vocabSize) || vocabSize <= specials.length) {
    throw new TokenizeError(
      "trainTokenizer",
      "options.vocabSize",
      `an integer > ${specials.length}`,
      show(vocabSize),
    );
  }
  const vocab: Record<string, number> = {};
  specials.forEach((token, id) => {
    vocab[token] = id;
  });
  // Segment with the skeleton's own normalizer and pre-tokenizer, one symbol per character (or byte).
  const empty = new WordTokenizer(skeleton(model, { ...vocab }, []));
  const counts = new Map<string, { symbols: string[]; count: number }>();
  const alphabet = new Set<string>(model === "bpe" ? byteLevelAlphabet() : []);
  for (const words of sentences) {
    words.forEach((word, w) => {
      const text = model === "bpe" && w > 0 ? ` ${word}` : word;
      const normalized = empty.tokenizer.normalizer?.normalize(text) ?? text;
      for (const preToken of empty.tokenizer.pre_tokenizer?.pre_tokenize(normalized, {
        section_index: 0,
      }) ?? [normalized]) {
        const chars = [...preToken];
        const symbols = model === "wordpiece" ? chars.map((c, i) => (i === 0 ? c : `##${c}`)) : chars;
        for (const s of symbols) alphabet.add(s);
        const entry = counts.get(preToken);
        if (entry === undefined) counts.set(preToken, { symbols, count: 1 });
        else entry.count += 1;
      }
    });
  }
  const ordered = model === "bpe" ? byteLevelAlphabet() : [...alphabet].sort();
  for (const symbol of ordered) if (vocab[symbol] === undefined) vocab[symbol] = Object.keys(vocab).length;
  const room = Math.max(0, vocabSize - Object.keys(vocab).length);
  const learned = learnMerges([...counts.values()], {
    merges: room * 2,
    minFrequency: options.minFrequency ?? 2,
    join: model === "wordpiece" ? (a, b) => a + b.slice(2) : (a, b) => a + b,
  });
  const merges: string[][] = [];
  const added = [];
  for (const merge of learned) {
    if (Object.keys(vocab).length >= vocabSize) break;
    merges.push([merge.left, merge.right]);
    if (vocab[merge.token] === undefined) {
      const id = Object.keys(vocab).length;
      vocab[merge.token] = id;
      added.push({ token: merge.token, id, count: merge.count });
    }
  }
  const json = skeleton(model, vocab, merges);
  return { json, tokenizer: new WordTokenizer(json), added };
}
