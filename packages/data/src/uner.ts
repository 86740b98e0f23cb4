import { DataError, show } from "./errors.js";
import { type BlockParser, type Line, parseStream, parseText, type TextSource } from "./lines.js";
import type { TaggedSentence } from "./types.js";
import { writeBlocks } from "./write.js";

/**
 * A sentence of a Universal NER `.iob2` file: comment lines (verbatim) and rows of five tab-separated
 * columns `index token tag extra annotator`, every column kept verbatim.
 */
export interface UnerSentence {
  comments: string[];
  rows: [index: string, token: string, tag: string, extra: string, annotator: string][];
  /** Value of the `# sent_id = ...` comment. */
  id?: string;
  /** Value of the `# text = ...` comment. */
  text?: string;
  /** 1-based line of the sentence's first line in its source. */
  line?: number;
}

export interface UnerReadOptions {
  /** Name used in error messages when the source is not a path. */
  source?: string;
}

const TAG = /^(O|[BI]-\S+)$/;

function commentValue(comment: string, key: string): string | undefined {
  const match = /^#\s*([^=]+?)\s*=\s?(.*)$/.exec(comment);
  return match !== null && match[1] === key ? match[2] : undefined;
}

function unerParser(source: string, fn: string): BlockParser<UnerSentence> {
  let comments: string[] = [];
  let rows: UnerSentence["rows"] = [];
  let firstLine = 0;
  const finish = (at: Line | undefined): UnerSentence | undefined => {
    if (rows.length === 0) {
      if (comments.length > 0) {
        const line = at?.line ?? firstLine;
        throw DataError.at(
          fn,
          { source, line },
          "token lines after the comment lines",
          at ? "a blank line" : "end of input",
        );
      }
      return undefined;
    }
    const sentence: UnerSentence = { comments, rows, line: firstLine };
    for (const comment of comments) {
      const id = commentValue(comment, "sent_id");
      if (id !== undefined) sentence.id = id;
      const text = commentValue(comment, "text");
      if (text !== undefined) sentence.text = text;
    }
    comments = [];
    rows = [];
    return sentence;
  };
  return {
    push(line) {
      if (line.text.trim() === "") return finish(line);
      if (comments.length === 0 && rows.length === 0) firstLine = line.line;
      const where = { source, line: line.line };
      if (line.text.startsWith("#") && rows.length === 0) {
        comments.push(line.text);
        return undefined;
      }
      const fields = line.text.split("\t");
      if (fields.length !== 5) {
        throw DataError.at(
          fn,
          where,
          "5 tab-separated columns (index token tag extra annotator)",
          `${fields.length} in ${show(line.text)}`,
        );
      }
      const [index = "", token = "", tag = "", extra = "", annotator = ""] = fields;
      if (index !== String(rows.length + 1))
        throw DataError.at(fn, where, `token index ${rows.length + 1}`, show(index));
      if (token === "") throw DataError.at(fn, where, "a non-empty token", "an empty column");
      if (!TAG.test(tag)) throw DataError.at(fn, where, "an IOB tag (O, B-TYPE or I-TYPE)", show(tag));
      rows.push([index, token, tag, extra, annotator]);
      return undefined;
    },
    end() {
      return finish(undefined);
    },
  };
}

/**
 * Streams the sentences of a Universal NER `.iob2` file, validating five columns, indices counting up
 * from 1, and IOB tags. Errors are {@link DataError}s naming `file:line`.
 */
export function readUner(source: TextSource, options: UnerReadOptions = {}): AsyncGenerator<UnerSentence> {
  const name = options.source ?? (typeof source === "string" ? source : "<stream>");
  return parseStream(source, unerParser(name, "readUner"), "readUner");
}

/** {@link readUner} for a string in memory. */
export function parseUner(text: string, options: UnerReadOptions = {}): UnerSentence[] {
  return parseText(text, unerParser(options.source ?? "<string>", "parseUner"));
}

/**
 * One sentence as `.iob2` text, refusing what would not read back as the same sentence: no rows, a
 * comment that is not one `#` line, a row that is not five columns, an index out of order, an empty
 * token, a tag that is not IOB, or a tab or line break inside a column. `name` names it in errors.
 */
function format(fn: string, name: string, sentence: UnerSentence): string {
  if (sentence.rows.length === 0) throw new DataError(fn, `${name}.rows`, "at least one row", "none");
  sentence.comments.forEach((comment, i) => {
    if (!comment.startsWith("#") || /[\r\n]/.test(comment)) {
      throw new DataError(fn, `${name}.comments[${i}]`, "one line starting with #", show(comment));
    }
  });
  sentence.rows.forEach((row, r) => {
    const where = `${name}.rows[${r}]`;
    if (row.length !== 5) throw new DataError(fn, where, "5 columns", String(row.length));
    row.forEach((cell, c) => {
      if (typeof cell !== "string" || /[\t\r\n]/.test(cell))
        throw new DataError(fn, `${where}[${c}]`, "a column without tabs or line breaks", show(cell));
    });
    const [index, token, tag] = row;
    if (index !== String(r + 1)) throw new DataError(fn, `${where}[0]`, `token index ${r + 1}`, show(index));
    if (token === "") throw new DataError(fn, `${where}[1]`, "a non-empty token", '""');
    if (!TAG.test(tag)) throw new DataError(fn, `${where}[2]`, "an IOB tag (O, B-TYPE or I-TYPE)", show(tag));
  });
  const lines = [...sentence.comments, ...sentence.rows.map((row) => row.join("\t"))];
  return `${lines.join("\n")}\n\n`;
}

/** One sentence in `.iob2` form, ending with its blank line (an error if it would not read back the same). */
export function formatUnerSentence(sentence: UnerSentence): string {
  return format("formatUnerSentence", "sentence", sentence);
}

/** Sentences as a `.iob2` document: reading then formatting gives the file back. */
export function formatUner(sentences: Iterable<UnerSentence>): string {
  let out = "";
  let index = 0;
  for (const sentence of sentences) out += format("formatUner", `sentences[${index++}]`, sentence);
  return out;
}

/** Streams sentences into a `.iob2` file; resolves with the number written. */
export function writeUner(
  path: string,
  sentences: Iterable<UnerSentence> | AsyncIterable<UnerSentence>,
): Promise<number> {
  let index = 0;
  return writeBlocks(path, sentences, (sentence) => format("writeUner", `sentences[${index++}]`, sentence));
}

/** The tagging view: tokens with their IOB2 NER tags, plus `# sent_id` and `# text`. */
export function unerToTagged(sentence: UnerSentence): TaggedSentence {
  const tagged: TaggedSentence = {
    words: sentence.rows.map((row) => row[1]),
    tags: sentence.rows.map((row) => row[2]),
  };
  if (sentence.id !== undefined) tagged.id = sentence.id;
  if (sentence.text !== undefined) tagged.text = sentence.text;
  return tagged;
}
