import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { show, TokenizeError } from "./errors.js";

/** The subword model inside a `tokenizer.json`. */
export type SubwordModel = "wordpiece" | "bpe" | "unigram";

/** A word-aligned encoding of one pre-tokenized sentence. All arrays have one entry per token. */
export interface WordEncoding {
  ids: number[];
  tokens: string[];
  /** Index of the word each token came from; `null` for special tokens. */
  wordIds: (number | null)[];
  attentionMask: number[];
  /** 1 for special tokens added by the post-processor, else 0. */
  specialTokensMask: number[];
}

export interface EncodeWordsOptions {
  /** Add the tokenizer's special tokens (`[CLS] … [SEP]`, `… </s>`); default true. */
  addSpecialTokens?: boolean;
  /**
   * Encode every word after the first as if a space preceded it, as in running text. For byte-level BPE
   * (GPT-2, RoBERTa without `add_prefix_space`) this gives `Ġ` on non-initial words; WordPiece and
   * Metaspace tokenizers are not affected. `"auto"` (default) turns it on for byte-level pre-tokenizers
   * that do not add a prefix space themselves.
   */
  spaceBetweenWords?: boolean | "auto";
}

interface TokenizerJson {
  model?: { type?: string; vocab?: unknown; merges?: unknown; continuing_subword_prefix?: unknown };
  pre_tokenizer?: unknown;
  added_tokens?: unknown;
}

interface TokenizerConfigJson {
  pad_token?: unknown;
  unk_token?: unknown;
}

interface Pieces {
  ids: number[];
  tokens: string[];
}

const CACHE_LIMIT = 200_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function detectModel(json: TokenizerJson): SubwordModel {
  const model = json.model ?? {};
  const type = typeof model.type === "string" ? model.type.toLowerCase() : undefined;
  if (type === "wordpiece" || type === "bpe" || type === "unigram") return type;
  if (type === undefined) {
    if (Array.isArray(model.vocab)) return "unigram";
    if (Array.isArray(model.merges)) return "bpe";
    if (typeof model.continuing_subword_prefix === "string") return "wordpiece";
  }
  throw new TokenizeError(
    "WordTokenizer",
    "tokenizer.model",
    "a WordPiece, BPE or Unigram model",
    show(model.type ?? "none"),
  );
}

function findByteLevel(preTokenizer: unknown): { addPrefixSpace: boolean } | undefined {
  if (!isRecord(preTokenizer)) return undefined;
  if (preTokenizer["type"] === "ByteLevel")
    return { addPrefixSpace: preTokenizer["add_prefix_space"] === true };
  const children = preTokenizer["pretokenizers"];
  if (Array.isArray(children)) {
    for (const child of children) {
      const found = findByteLevel(child);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function tokenName(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isRecord(value) && typeof value["content"] === "string") return value["content"];
  return undefined;
}

/**
 * A Hugging Face tokenizer (`tokenizer.json`) that encodes pre-tokenized sentences with word ids.
 *
 * Each word goes through the tokenizer's own normalizer, pre-tokenizer and model separately, as the
 * Rust library does for `is_pretokenized` input, so every token knows its word. Special tokens come
 * from the tokenizer's post-processor.
 */
export class WordTokenizer {
  /** The underlying `@huggingface/tokenizers` tokenizer. */
  readonly tokenizer: Tokenizer;
  readonly model: SubwordModel;
  /** Whether the pre-tokenizer is byte-level (GPT-2 style `Ġ`). */
  readonly byteLevel: boolean;
  /** Id of the padding token, where the tokenizer has one. */
  readonly padTokenId: number | undefined;
  /** Id of the unknown token, where the tokenizer has one. */
  readonly unkTokenId: number | undefined;
  private readonly defaultSpace: boolean;
  private readonly prefix: Pieces;
  private readonly suffix: Pieces;
  private readonly cache = new Map<string, Pieces>();
  private readonly source: string;
  private readonly sourceConfig: string;

  constructor(json: object, config: object = {}) {
    const tokenizerJson: TokenizerJson = json;
    const tokenizerConfig: TokenizerConfigJson = config;
    this.source = JSON.stringify(json);
    this.sourceConfig = JSON.stringify(config);
    this.model = detectModel(tokenizerJson);
    this.tokenizer = new Tokenizer(json, config);
    const byteLevel = findByteLevel(tokenizerJson.pre_tokenizer);
    this.byteLevel = byteLevel !== undefined;
    this.defaultSpace = byteLevel !== undefined && !byteLevel.addPrefixSpace;
    const id = (name: string | undefined): number | undefined =>
      name === undefined ? undefined : this.tokenizer.token_to_id(name);
    this.padTokenId =
      id(tokenName(tokenizerConfig.pad_token)) ?? id("[PAD]") ?? id("<pad>") ?? id("<|padding|>");
    this.unkTokenId = id(tokenName(tokenizerConfig.unk_token)) ?? id("[UNK]") ?? id("<unk>");
    const marker = "\u0000xlt-word\u0000";
    const processed = this.tokenizer.post_processor?.([marker]).tokens ?? [marker];
    const at = processed.indexOf(marker);
    const pieces = (tokens: string[]): Pieces => ({
      tokens,
      ids: tokens.map((token) => {
        const tokenId = this.tokenizer.token_to_id(token);
        if (tokenId === undefined) {
          throw new TokenizeError(
            "WordTokenizer",
            "post_processor",
            "special tokens in the vocabulary",
            show(token),
          );
        }
        return tokenId;
      }),
    });
    this.prefix = pieces(processed.slice(0, at));
    this.suffix = pieces(processed.slice(at + 1));
  }

  /**
   * Loads a tokenizer from a `tokenizer.json` file or from a folder holding `tokenizer.json` (and,
   * optionally, `tokenizer_config.json`).
   */
  static fromFile(path: string): WordTokenizer {
    if (!existsSync(path)) {
      throw new TokenizeError(
        "WordTokenizer.fromFile",
        "path",
        "a tokenizer.json file or a folder holding one",
        show(path),
      );
    }
    const folder = statSync(path).isDirectory();
    const file = folder ? join(path, "tokenizer.json") : path;
    const dir = folder ? path : join(path, "..");
    if (!existsSync(file)) {
      throw new TokenizeError(
        "WordTokenizer.fromFile",
        "path",
        "a folder holding tokenizer.json",
        show(path),
      );
    }
    const configFile = join(dir, "tokenizer_config.json");
    const config = existsSync(configFile) ? JSON.parse(readFileSync(configFile, "utf8")) : {};
    return new WordTokenizer(JSON.parse(readFileSync(file, "utf8")), config);
  }

  /** A fresh copy of the `tokenizer.json` object this tokenizer was made from. */
  toJSON(): Record<string, unknown> {
    return JSON.parse(this.source);
  }

  /** A fresh copy of the `tokenizer_config.json` object (empty when there was none). */
  configJSON(): Record<string, unknown> {
    return JSON.parse(this.sourceConfig);
  }

  /** Whether words after the first get a space in front by default (see {@link EncodeWordsOptions}). */
  get spaceBetweenWordsByDefault(): boolean {
    return this.defaultSpace;
  }

  /**
   * The subword pieces of a word grouped by pre-token (`il-` → `[["il"], ["-"]]` for BERT): the
   * normalizer, pre-tokenizer and model run one by one. Merges never cross a pre-token boundary.
   */
  preTokenPieces(word: string, first = true, spaceBetweenWords = this.defaultSpace): string[][] {
    const text = spaceBetweenWords && !first ? ` ${word}` : word;
    const normalized = this.tokenizer.normalizer?.normalize(text) ?? text;
    const preTokens = this.tokenizer.pre_tokenizer?.pre_tokenize(normalized, { section_index: 0 }) ?? [
      normalized,
    ];
    const model = this.tokenizer.model;
    if (model === null) return preTokens.map((t: string) => [t]);
    return preTokens.map((t: string) => model.encode([t]));
  }

  /** Number of entries in the vocabulary, added tokens included. */
  get vocabSize(): number {
    return this.tokenizer.get_vocab(true).size;
  }

  /** Id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** The subword pieces of one word, in the word's position (first or not). */
  wordPieces(word: string, first: boolean, spaceBetweenWords: boolean): Pieces {
    const text = spaceBetweenWords && !first ? ` ${word}` : word;
    const cached = this.cache.get(text);
    if (cached !== undefined) return cached;
    const encoding = this.tokenizer.encode(text, { add_special_tokens: false });
    const pieces = { ids: encoding.ids, tokens: encoding.tokens };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(text, pieces);
    return pieces;
  }

  /**
   * Encodes a pre-tokenized sentence. `wordIds[i]` is the index in `words` of the word that token `i`
   * came from (`null` for special tokens). A word that the tokenizer turns into no token at all (only
   * characters its normalizer drops) becomes the unknown token, so no word is lost.
   */
  encodeWords(words: readonly string[], options: EncodeWordsOptions = {}): WordEncoding {
    if (!Array.isArray(words))
      throw new TokenizeError("encodeWords", "words", "an array of strings", show(words));
    const special = options.addSpecialTokens ?? true;
    const space = options.spaceBetweenWords ?? "auto";
    const spaceBetween = space === "auto" ? this.defaultSpace : space;
    const ids: number[] = [];
    const tokens: string[] = [];
    const wordIds: (number | null)[] = [];
    const specialTokensMask: number[] = [];
    const push = (pieces: Pieces, word: number | null): void => {
      for (let i = 0; i < pieces.ids.length; i++) {
        ids.push(pieces.ids[i] ?? 0);
        tokens.push(pieces.tokens[i] ?? "");
        wordIds.push(word);
        specialTokensMask.push(word === null ? 1 : 0);
      }
    };
    for (let w = 0; w < words.length; w++) {
      const word = words[w];
      if (typeof word !== "string" || word.length === 0) {
        throw new TokenizeError("encodeWords", `words[${w}]`, "a non-empty string", show(word));
      }
      const pieces = this.wordPieces(word, w === 0, spaceBetween);
      if (pieces.ids.length > 0) {
        push(pieces, w);
      } else if (this.unkTokenId !== undefined) {
        push({ ids: [this.unkTokenId], tokens: [this.idToToken(this.unkTokenId) ?? ""] }, w);
      } else {
        throw new TokenizeError(
          "encodeWords",
          `words[${w}]`,
          "a word that gives at least one token",
          show(word),
        );
      }
    }
    const encoding = { ids, tokens, wordIds, attentionMask: ids.map(() => 1), specialTokensMask };
    return special ? this.withSpecialTokens(encoding) : encoding;
  }

  /** Wraps an encoding made without special tokens in the tokenizer's special tokens (`[CLS] … [SEP]`). */
  withSpecialTokens(encoding: WordEncoding): WordEncoding {
    const before = this.prefix.ids.length;
    const after = this.suffix.ids.length;
    const nulls = (n: number): null[] => new Array<null>(n).fill(null);
    const ones = (n: number): number[] => new Array<number>(n).fill(1);
    return {
      ids: [...this.prefix.ids, ...encoding.ids, ...this.suffix.ids],
      tokens: [...this.prefix.tokens, ...encoding.tokens, ...this.suffix.tokens],
      wordIds: [...nulls(before), ...encoding.wordIds, ...nulls(after)],
      attentionMask: [...ones(before), ...encoding.attentionMask, ...ones(after)],
      specialTokensMask: [...ones(before), ...encoding.specialTokensMask, ...ones(after)],
    };
  }

  /** Number of special tokens the post-processor adds to one sentence. */
  get specialTokenCount(): number {
    return this.prefix.ids.length + this.suffix.ids.length;
  }
}

/** Loads a tokenizer from a `tokenizer.json` file or a folder; see {@link WordTokenizer.fromFile}. */
export function loadTokenizer(path: string): WordTokenizer {
  return WordTokenizer.fromFile(path);
}
