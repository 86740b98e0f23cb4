import { DataError, show } from "./errors.js";
import { type BlockParser, type Line, parseStream, parseText, type TextSource } from "./lines.js";
import type { TaggedSentence } from "./types.js";
import { writeBlocks } from "./write.js";

/** Column separator of a CoNLL-style file. */
export type ColumnSeparator = " " | "\t";

/**
 * A block of a CoNLL-style column file: a sentence (rows of columns), or a `-DOCSTART-` line that
 * opens a document (kept with its columns, e.g. `-DOCSTART- -X- -X- O`).
 */
export type ColumnBlock =
  | { kind: "sentence"; rows: string[][]; line?: number }
  | { kind: "docstart"; columns: string[]; line?: number };

export interface ColumnReadOptions {
  /** Name used in error messages when the source is not a path. */
  source?: string;
  /** Column separator; default: a tab if the first row has one, else a space. */
  separator?: ColumnSeparator;
  /** Required number of columns per row; default: as many as the first row has. */
  columns?: number;
}

export interface ColumnTagOptions {
  /** Column of the word (default 0). */
  wordColumn?: number;
  /** Column of the tag (default: the last). */
  tagColumn?: number;
}

function columnParser(options: ColumnReadOptions, source: string, fn: string): BlockParser<ColumnBlock> {
  let separator = options.separator;
  let width = options.columns;
  let rows: string[][] = [];
  let firstLine = 0;
  let pendingDoc: ColumnBlock | undefined;
  const finish = (): ColumnBlock | undefined => {
    if (rows.length === 0) return undefined;
    const block: ColumnBlock = { kind: "sentence", rows, line: firstLine };
    rows = [];
    return block;
  };
  return {
    push(line: Line) {
      if (line.text.trim() === "") {
        if (pendingDoc !== undefined) {
          const doc = pendingDoc;
          pendingDoc = undefined;
          return doc;
        }
        return finish();
      }
      const where = { source, line: line.line };
      if (pendingDoc !== undefined) {
        throw DataError.at(fn, where, "a blank line after -DOCSTART-", show(line.text));
      }
      if (separator === undefined) separator = line.text.includes("\t") ? "\t" : " ";
      const fields = line.text.split(separator);
      if (fields[0] === "-DOCSTART-") {
        if (rows.length > 0)
          throw DataError.at(fn, where, "-DOCSTART- after a blank line", "it inside a sentence");
        pendingDoc = { kind: "docstart", columns: fields, line: line.line };
        return undefined;
      }
      if (width === undefined) width = fields.length;
      if (fields.length !== width) {
        const name = separator === "\t" ? "tab" : "space";
        throw DataError.at(
          fn,
          where,
          `${width} ${name}-separated columns`,
          `${fields.length} in ${show(line.text)}`,
        );
      }
      if (fields.some((f) => f === "")) {
        throw DataError.at(fn, where, "no empty column (one separator between columns)", show(line.text));
      }
      if (rows.length === 0) firstLine = line.line;
      rows.push(fields);
      return undefined;
    },
    end() {
      if (pendingDoc !== undefined) {
        const doc = pendingDoc;
        pendingDoc = undefined;
        return doc;
      }
      return finish();
    },
  };
}

/**
 * Streams the blocks of a CoNLL-style column file (CoNLL-2002/2003 NER, plain `token TAG` files):
 * rows of space- or tab-separated columns, blank lines between sentences, `-DOCSTART-` lines between
 * documents. Every row must have the same number of columns; errors name `file:line`.
 */
export function readColumns(
  source: TextSource,
  options: ColumnReadOptions = {},
): AsyncGenerator<ColumnBlock> {
  const name = options.source ?? (typeof source === "string" ? source : "<stream>");
  return parseStream(source, columnParser(options, name, "readColumns"), "readColumns");
}

/** {@link readColumns} for a string in memory. */
export function parseColumns(text: string, options: ColumnReadOptions = {}): ColumnBlock[] {
  return parseText(text, columnParser(options, options.source ?? "<string>", "parseColumns"));
}

/**
 * Throws unless every cell of `row` is non-empty and holds no line break and nothing the reader would
 * take for a separator: a tab, and a space too unless the columns are tab-separated and more than one
 * (a reader detects tabs from the first row).
 */
function checkCells(fn: string, argument: string, row: readonly string[], spacesAllowed: boolean): void {
  const forbidden = spacesAllowed ? /[\t\r\n]/ : /[ \t\r\n]/;
  const expected = spacesAllowed
    ? "a non-empty cell without tabs or line breaks"
    : "a non-empty cell without spaces, tabs or line breaks";
  row.forEach((cell, c) => {
    if (typeof cell !== "string" || cell === "" || forbidden.test(cell)) {
      throw new DataError(fn, `${argument}[${c}]`, expected, show(cell));
    }
  });
}

/**
 * One block as text, refusing what would not read back as the same block: an empty sentence, rows of
 * different widths, a sentence row starting with `-DOCSTART-`, or a cell that is empty or holds a
 * line break or a separator (it would shift or split the columns). `name` names the block in errors.
 */
function format(fn: string, name: string, block: ColumnBlock, separator: ColumnSeparator): string {
  if (separator !== " " && separator !== "\t") {
    throw new DataError(fn, "separator", 'a space or a tab ("\\t")', show(separator));
  }
  if (block.kind === "docstart") {
    if (block.columns[0] !== "-DOCSTART-")
      throw new DataError(fn, `${name}.columns[0]`, '"-DOCSTART-"', show(block.columns[0]));
    checkCells(fn, `${name}.columns`, block.columns, false);
    return `${block.columns.join(separator)}\n\n`;
  }
  const width = block.rows[0]?.length ?? 0;
  if (width === 0) throw new DataError(fn, `${name}.rows`, "at least one row of at least one column", "none");
  block.rows.forEach((row, r) => {
    if (row.length !== width)
      throw new DataError(
        fn,
        `${name}.rows[${r}]`,
        `${width} columns like the first row`,
        String(row.length),
      );
    if (row[0] === "-DOCSTART-")
      throw new DataError(fn, `${name}.rows[${r}][0]`, "a word other than -DOCSTART-", show(row[0]));
    checkCells(fn, `${name}.rows[${r}]`, row, separator === "\t" && width > 1);
  });
  return `${block.rows.map((row) => row.join(separator)).join("\n")}\n\n`;
}

/** One block as text, ending with its blank line (an error if it would not read back the same). */
export function formatColumnBlock(block: ColumnBlock, separator: ColumnSeparator = " "): string {
  return format("formatColumnBlock", "block", block, separator);
}

/** Blocks as a column file: reading then formatting with the same separator gives the file back. */
export function formatColumns(blocks: Iterable<ColumnBlock>, separator: ColumnSeparator = " "): string {
  let out = "";
  let index = 0;
  for (const block of blocks) out += format("formatColumns", `blocks[${index++}]`, block, separator);
  return out;
}

/** Streams blocks into a column file; resolves with the number written. */
export function writeColumns(
  path: string,
  blocks: Iterable<ColumnBlock> | AsyncIterable<ColumnBlock>,
  separator: ColumnSeparator = " ",
): Promise<number> {
  let index = 0;
  return writeBlocks(path, blocks, (block) => format("writeColumns", `blocks[${index++}]`, block, separator));
}

/** The tagging view of a sentence block: one column as words, another as tags. */
export function columnsToTagged(
  block: ColumnBlock & { kind: "sentence" },
  options: ColumnTagOptions = {},
): TaggedSentence {
  const width = block.rows[0]?.length ?? 0;
  const wordColumn = options.wordColumn ?? 0;
  const tagColumn = options.tagColumn ?? width - 1;
  for (const [argument, column] of [
    ["options.wordColumn", wordColumn],
    ["options.tagColumn", tagColumn],
  ] as const) {
    if (!Number.isInteger(column) || column < 0 || column >= width) {
      throw new DataError("columnsToTagged", argument, `a column index in [0, ${width})`, show(column));
    }
  }
  return {
    words: block.rows.map((row) => row[wordColumn] ?? ""),
    tags: block.rows.map((row) => row[tagColumn] ?? ""),
  };
}

/** Tagged sentences as two-column `token TAG` blocks (for {@link writeColumns}). */
export function taggedToColumns(sentence: TaggedSentence): ColumnBlock {
  if (sentence.words.length !== sentence.tags.length) {
    throw new DataError(
      "taggedToColumns",
      "sentence.tags",
      `one tag per word (${sentence.words.length})`,
      String(sentence.tags.length),
    );
  }
  return { kind: "sentence", rows: sentence.words.map((word, i) => [word, sentence.tags[i] ?? ""]) };
}

/**
 * Streams a plain `token TAG` file (two space- or tab-separated columns, blank lines between
 * sentences) as tagged sentences; `-DOCSTART-` lines are skipped.
 */
export async function* readTokenTags(
  source: TextSource,
  options: Omit<ColumnReadOptions, "columns"> = {},
): AsyncGenerator<TaggedSentence> {
  for await (const block of readColumns(source, { ...options, columns: 2 })) {
    if (block.kind === "sentence") yield columnsToTagged(block);
  }
}
