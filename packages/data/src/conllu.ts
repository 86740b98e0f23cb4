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
  /** The last multiword range: its last word must exist, and the next range must start after it. */
  let range: { id: string; to: number; line: number } | undefined;
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
    if (range !== undefined && range.to >= nextWord) {
      throw DataError.at(
        fn,
        { source, line: range.line },
        `a multiword range ending at a word of the sentence (<= ${nextWord - 1})`,
        show(range.id),
      );
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
    range = undefined;
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
        if (range !== undefined && range.to >= nextWord) {
          throw DataError.at(fn, where, `a multiword range after the end of ${show(range.id)}`, show(id));
        }
        range = { id, to: Number(to), line: line.line };
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

const FIELDS = ["id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc"] as const;

/**
 * One sentence as CoNLL-U text, refusing what would not read back as the same sentence: no tokens, a
 * comment that does not start with `#` or spans lines, an empty field, or a tab or line break inside
 * a field. `name` is how the sentence is called in errors (`sentence`, `sentences[3]`).
 */
function format(fn: string, name: string, sentence: ConlluSentence): string {
  if (sentence.tokens.length === 0) throw new DataError(fn, `${name}.tokens`, "at least one token", "none");
  sentence.comments.forEach((comment, i) => {
    if (!comment.startsWith("#") || /[\r\n]/.test(comment)) {
      throw new DataError(fn, `${name}.comments[${i}]`, "one line starting with #", show(comment));
    }
  });
  const lines = [...sentence.comments];
  sentence.tokens.forEach((token, i) => {
    for (const field of FIELDS) {
      const value = token[field];
      if (typeof value !== "string" || value === "" || /[\t\r\n]/.test(value)) {
        throw new DataError(
          fn,
          `${name}.tokens[${i}].${field}`,
          "a non-empty field without tabs or line breaks (_ for none)",
          show(value),
        );
      }
    }
    lines.push(FIELDS.map((field) => token[field]).join("\t"));
  });
  return `${lines.join("\n")}\n\n`;
}

/** One sentence in CoNLL-U, ending with the blank line that closes it. */
export function formatConlluSentence(sentence: ConlluSentence): string {
  return format("formatConlluSentence", "sentence", sentence);
}

/**
 * Sentences as a CoNLL-U document: reading a file and formatting what was read gives the file back.
 * A sentence that would not read back the same (see {@link formatConlluSentence}) is an error.
 */
export function formatConllu(sentences: Iterable<ConlluSentence>): string {
  let out = "";
  let index = 0;
  for (const sentence of sentences) out += format("formatConllu", `sentences[${index++}]`, sentence);
  return out;
}

/** Streams sentences into a CoNLL-U file; resolves with the number written. */
export function writeConllu(
  path: string,
  sentences: Iterable<ConlluSentence> | AsyncIterable<ConlluSentence>,
): Promise<number> {
  let index = 0;
  return writeBlocks(path, sentences, (sentence) => format("writeConllu", `sentences[${index++}]`, sentence));
}

/** Index in `sentence.tokens` of the first syntactic word whose `column` is `_` (no tag), if any. */
export function untaggedWord(sentence: ConlluSentence, column: ConlluTagColumn): number | undefined {
  const index = sentence.tokens.findIndex((token) => WORD_ID.test(token.id) && token[column] === "_");
  return index === -1 ? undefined : index;
}

/**
 * The tagging view of a CoNLL-U sentence: the FORM of each syntactic word (multiword token ranges and
 * empty nodes skipped) with its UPOS (or XPOS) tag, plus `# sent_id` and `# text`. A word whose
 * column is `_` (many treebanks have no XPOS) is an error, never a tag named `_`.
 */
export function conlluToTagged(sentence: ConlluSentence, column: ConlluTagColumn = "upos"): TaggedSentence {
  const untagged = untaggedWord(sentence, column);
  if (untagged !== undefined) {
    throw new DataError(
      "conlluToTagged",
      `sentence.tokens[${untagged}].${column}`,
      `a ${column.toUpperCase()} tag on every word`,
      '"_" (none)',
    );
  }
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
