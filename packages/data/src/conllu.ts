import { DataError, show } from "./errors.js";
import { type BlockParser, type Line, parseStream, parseText, type TextSource } from "./lines.js";
import type { TaggedSentence } from "./types.js";
import { writeBlocks } from "./write.js";

/** The 17 Universal POS tags (https://universaldependencies.org/u/pos/). */
export const UPOS_TAGS = [
  "ADJ",
  "ADP",
  "ADV",
  "AUX",
  "CCONJ",
  "DET",
  "INTJ",
  "NOUN",
  "NUM",
  "PART",
  "PRON",
  "PROPN",
  "PUNCT",
  "SCONJ",
  "SYM",
  "VERB",
  "X",
] as const;

export type Upos = (typeof UPOS_TAGS)[number];

const UPOS_SET: ReadonlySet<string> = new Set(UPOS_TAGS);

/** One line of a CoNLL-U sentence, every column kept verbatim (`_` stays `_`). */
export interface ConlluToken {
  /** `7` for a syntactic word, `3-4` for a multiword token range, `5.1` for an empty node. */
  id: string;
  form: string;
  lemma: string;
  upos: string;
  xpos: string;
  feats: string;
  head: string;
  deprel: string;
  deps: string;
  misc: string;
}

/** A CoNLL-U sentence: its comment lines (verbatim, with the `#`) and its token lines. */
export interface ConlluSentence {
  comments: string[];
  tokens: ConlluToken[];
  /** Value of the `# sent_id = ...` comment. */
  id?: string;
  /** Value of the `# text = ...` comment. */
  text?: string;
  /** 1-based line of the sentence's first line in its source. */
  line?: number;
}

/** Which CoNLL-U column becomes the tag in {@link conlluToTagged}. */
export type ConlluTagColumn = "upos" | "xpos";

export interface ConlluReadOptions {
  /** Name used in error messages when the source is not a path (default `<string>` / `<stream>`). */
  source?: string;
}

const COLUMNS = 10;
const WORD_ID = /^[1-9][0-9]*$/;
const RANGE_ID = /^([1-9][0-9]*)-([1-9][0-9]*)$/;
const EMPTY_ID = /^(0|[1-9][0-9]*)\.[1-9][0-9]*$/;

function commentValue(comment: string, key: string): string | undefined {
  const match = /^#\s*([^=]+?)\s*=\s?(.*)$/.exec(comment);
  return match !== null && match[1] === key ? match[2] : undefined;
}

function conlluParser(source: string, fn: string): BlockParser<ConlluSentence> {
  let comments: string[] = [];
  let tokens: ConlluToken[] = [];
  let firstLine = 0;
  let nextWord = 1;
  const finish = (at: Line | undefined): ConlluSentence | undefined => {
    if (tokens.length === 0) {
      if (comments.length > 0 && at !== undefined) {
        throw DataError.at(
          fn,
          { source, line: at.line },
          "token lines after the comment lines",
          "a blank line",
        );
      }
      if (comments.length > 0) {
        throw DataError.at(
          fn,
          { source, line: firstLine },
          "token lines after the comment lines",
          "end of input",
        );
      }
      return undefined;
    }
    const sentence: ConlluSentence = { comments, tokens, line: firstLine };
    for (const comment of comments) {
      const id = commentValue(comment, "sent_id");
      if (id !== undefined) sentence.id = id;
      const text = commentValue(comment, "text");
      if (text !== undefined) sentence.text = text;
    }
    comments = [];
    tokens = [];
    nextWord = 1;
    return sentence;
  };
  return {
    push(line) {
      const text = line.text;
      if (text.trim() === "") return finish(line);
      if (comments.length === 0 && tokens.length === 0) firstLine = line.line;
      const where = { source, line: line.line };
      if (text.startsWith("#")) {
        if (tokens.length > 0) {
          throw DataError.at(
            fn,
            where,
            "comment lines only before the token lines of a sentence",
            show(text),
          );
        }
        comments.push(text);
        return undefined;
      }
      const fields = text.split("\t");
      if (fields.length !== COLUMNS) {
        throw DataError.at(
          fn,
          where,
          `${COLUMNS} tab-separated columns`,
          `${fields.length} in ${show(text)}`,
        );
      }
      const [
        id = "",
        form = "",
        lemma = "",
        upos = "",
        xpos = "",
        feats = "",
        head = "",
        deprel = "",
        deps = "",
        misc = "",
      ] = fields;
      if (WORD_ID.test(id)) {
        if (Number(id) !== nextWord) throw DataError.at(fn, where, `word id ${nextWord}`, show(id));
        nextWord += 1;
        if (!UPOS_SET.has(upos)) throw DataError.at(fn, where, "a UPOS tag (ADJ, ADP, ..., X)", show(upos));
      } else if (RANGE_ID.test(id)) {
        const [from = "", to = ""] = id.split("-");
        if (Number(from) !== nextWord || Number(to) <= Number(from)) {
          throw DataError.at(fn, where, `a multiword range starting at word ${nextWord}`, show(id));
        }
      } else if (EMPTY_ID.test(id)) {
        if (Number(id.split(".")[0]) !== nextWord - 1) {
          throw DataError.at(fn, where, `an empty node after word ${nextWord - 1}`, show(id));
        }
      } else {
        throw DataError.at(fn, where, "an ID like 7, 3-4 or 5.1", show(id));
      }
      if (form === "") throw DataError.at(fn, where, "a non-empty FORM", "an empty column");
      tokens.push({ id, form, lemma, upos, xpos, feats, head, deprel, deps, misc });
      return undefined;
    },
    end() {
      return finish(undefined);
    },
  };
}

/**
 * Streams the sentences of a CoNLL-U file (or stream), validating as it goes: ten tab-separated
 * columns, word ids counting up from 1, multiword ranges `3-4` and empty nodes `5.1` in place, a UPOS
 * tag on every word, comments only before tokens. Errors are {@link DataError}s naming `file:line`.
 */
export function readConllu(
  source: TextSource,
  options: ConlluReadOptions = {},
): AsyncGenerator<ConlluSentence> {
  const name = options.source ?? (typeof source === "string" ? source : "<stream>");
  return parseStream(source, conlluParser(name, "readConllu"), "readConllu");
}

/** {@link readConllu} for a string in memory. */
export function parseConllu(text: string, options: ConlluReadOptions = {}): ConlluSentence[] {
  return parseText(text, conlluParser(options.source ?? "<string>", "parseConllu"));
}

/** One sentence in CoNLL-U, ending with the blank line that closes it. */
export function formatConlluSentence(sentence: ConlluSentence): string {
  const lines = [...sentence.comments];
  for (const t of sentence.tokens) {
    lines.push([t.id, t.form, t.lemma, t.upos, t.xpos, t.feats, t.head, t.deprel, t.deps, t.misc].join("\t"));
  }
  return `${lines.join("\n")}\n\n`;
}

/** Sentences as a CoNLL-U document: reading a file and formatting what was read gives the file back. */
export function formatConllu(sentences: Iterable<ConlluSentence>): string {
  let out = "";
  for (const sentence of sentences) out += formatConlluSentence(sentence);
  return out;
}

/** Streams sentences into a CoNLL-U file; resolves with the number written. */
export function writeConllu(
  path: string,
  sentences: Iterable<ConlluSentence> | AsyncIterable<ConlluSentence>,
): Promise<number> {
  return writeBlocks(path, sentences, formatConlluSentence);
}

/**
 * The tagging view of a CoNLL-U sentence: the FORM of each syntactic word (multiword token ranges and
 * empty nodes skipped) with its UPOS (or XPOS) tag, plus `# sent_id` and `# text`.
 */
export function conlluToTagged(sentence: ConlluSentence, column: ConlluTagColumn = "upos"): TaggedSentence {
  const words: string[] = [];
  const tags: string[] = [];
  for (const token of sentence.tokens) {
    if (!WORD_ID.test(token.id)) continue;
    words.push(token.form);
    tags.push(column === "upos" ? token.upos : token.xpos);
  }
  const tagged: TaggedSentence = { words, tags };
  if (sentence.id !== undefined) tagged.id = sentence.id;
  if (sentence.text !== undefined) tagged.text = sentence.text;
  return tagged;
}
