import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  columnsToTagged,
  formatColumnBlock,
  formatColumns,
  parseColumns,
  readColumns,
  readTokenTags,
  taggedToColumns,
  writeColumns,
} from "./columns.js";
import { corpusFile, listCorpora, type Split } from "./registry.js";
import { readUner, unerToTagged } from "./uner.js";

const CONLL03 = [
  "-DOCSTART- -X- -X- O",
  "",
  "EU NNP B-NP B-ORG",
  "rejects VBZ B-VP O",
  "German JJ B-NP B-MISC",
  "",
  "Peter NNP B-NP B-PER",
  "Blackburn NNP I-NP I-PER",
  "",
  "",
].join("\n");

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function* text(value: string): AsyncGenerator<string> {
  yield value;
}

describe("CoNLL column files", () => {
  it("reads -DOCSTART- and sentences and writes them back unchanged", () => {
    const blocks = parseColumns(CONLL03);
    expect(blocks.map((b) => b.kind)).toEqual(["docstart", "sentence", "sentence"]);
    const second = blocks[1];
    if (second?.kind !== "sentence") throw new Error("expected a sentence");
    expect(columnsToTagged(second)).toEqual({
      words: ["EU", "rejects", "German"],
      tags: ["B-ORG", "O", "B-MISC"],
    });
    expect(columnsToTagged(second, { tagColumn: 1 }).tags).toEqual(["NNP", "VBZ", "JJ"]);
    expect(formatColumns(blocks)).toBe(CONLL03);
  });

  it("detects tab separators and round-trips them", () => {
    const tsv = "Tórshavn\tB-LOC\ner\tO\n\n";
    const blocks = parseColumns(tsv);
    expect(formatColumns(blocks, "\t")).toBe(tsv);
  });

  it("reads plain token TAG files", async () => {
    const sentences = await collect(readTokenTags(text("-DOCSTART- O\n\nHej O\nKim B-PER\n\nJa O\n")));
    expect(sentences).toEqual([
      { words: ["Hej", "Kim"], tags: ["O", "B-PER"] },
      { words: ["Ja"], tags: ["O"] },
    ]);
  });

  const bad: [string, string][] = [
    ["a B-X\nb\n", '<string>:2: expected 2 space-separated columns, got 1 in "b"'],
    ["a\tB-X\nb\tO\tx\n", '<string>:2: expected 2 tab-separated columns, got 3 in "b\\tO\\tx"'],
    ["a  B-X\n", '<string>:1: expected no empty column (one separator between columns), got "a  B-X"'],
    ["-DOCSTART- O\na O\n", '<string>:2: expected a blank line after -DOCSTART-, got "a O"'],
    ["a O\n-DOCSTART- O\n", "<string>:2: expected -DOCSTART- after a blank line, got it inside a sentence"],
  ];
  it.each(bad)("rejects %j with file:line", (input, message) => {
    expect(() => parseColumns(input)).toThrow(`parseColumns: ${message}`);
  });

  it("names the file in streaming errors and checks tag columns", async () => {
    await expect(collect(readTokenTags(text("a O x\n"), { source: "f.txt" }))).rejects.toThrow(
      'readColumns: f.txt:1: expected 2 space-separated columns, got 3 in "a O x"',
    );
    expect(() => columnsToTagged({ kind: "sentence", rows: [["a", "O"]] }, { tagColumn: 2 })).toThrow(
      "columnsToTagged: options.tagColumn: expected a column index in [0, 2), got 2",
    );
    expect(() => taggedToColumns({ words: ["a"], tags: [] })).toThrow(
      "taggedToColumns: sentence.tags: expected one tag per word (1), got 0",
    );
  });

  it.each(
    listCorpora({ task: "ner" }).flatMap((c) => Object.keys(c.splits).map((s) => [c.name, s] as const)),
  )(
    "%s %s converted to token TAG columns, written and read back, keeps every word and tag",
    async (name, split) => {
      const sentences = [];
      for await (const s of readUner(corpusFile(name, split as Split))) sentences.push(unerToTagged(s));
      const dir = await mkdtemp(join(tmpdir(), "xlt-columns-"));
      const path = join(dir, "out.txt");
      await writeColumns(path, sentences.map(taggedToColumns), "\t");
      const back = await collect(readTokenTags(path));
      expect(back).toEqual(sentences.map(({ words, tags }) => ({ words, tags })));
      expect(formatColumns(await collect(readColumns(path)), "\t")).toBe(await readFile(path, "utf8"));
    },
  );

  it("refuses to write blocks that would not read back the same", async () => {
    const sentence = (rows: string[][]) => ({ kind: "sentence" as const, rows });
    expect(() => formatColumns([taggedToColumns({ words: ["New York"], tags: ["B-LOC"] })])).toThrow(
      'formatColumns: blocks[0].rows[0][0]: expected a non-empty cell without spaces, tabs or line breaks, got "New York"',
    );
    expect(() => formatColumns([sentence([["a", "O"]]), sentence([["b", ""]])], "\t")).toThrow(
      'formatColumns: blocks[1].rows[0][1]: expected a non-empty cell without tabs or line breaks, got ""',
    );
    expect(() => formatColumns([sentence([["a b\tc", "O"]])], "\t")).toThrow(
      'formatColumns: blocks[0].rows[0][0]: expected a non-empty cell without tabs or line breaks, got "a b\\tc"',
    );
    // a space is fine between tabs, but not in a one-column file (the reader would split on it)
    expect(formatColumns([sentence([["s k", "O"]])], "\t")).toBe("s k\tO\n\n");
    expect(() => formatColumns([sentence([["s k"]])], "\t")).toThrow(
      'formatColumns: blocks[0].rows[0][0]: expected a non-empty cell without spaces, tabs or line breaks, got "s k"',
    );
    expect(() => formatColumns([sentence([["a\nb", "O"]])])).toThrow("formatColumns: blocks[0].rows[0][0]:");
    expect(() => formatColumns([sentence([])])).toThrow(
      "formatColumns: blocks[0].rows: expected at least one row of at least one column, got none",
    );
    expect(() => formatColumns([sentence([["a", "O"], ["b"]])])).toThrow(
      "formatColumns: blocks[0].rows[1]: expected 2 columns like the first row, got 1",
    );
    expect(() => formatColumns([sentence([["-DOCSTART-", "O"]])])).toThrow(
      'formatColumns: blocks[0].rows[0][0]: expected a word other than -DOCSTART-, got "-DOCSTART-"',
    );
    expect(() => formatColumns([{ kind: "docstart", columns: ["DOC"] }])).toThrow(
      'formatColumns: blocks[0].columns[0]: expected "-DOCSTART-", got "DOC"',
    );
    expect(() => formatColumnBlock(sentence([["a", "O"]]), "," as " ")).toThrow(
      'formatColumnBlock: separator: expected a space or a tab ("\\t"), got ","',
    );
    const dir = await mkdtemp(join(tmpdir(), "xlt-columns-"));
    await expect(
      writeColumns(join(dir, "bad.txt"), [sentence([["a", "O"]]), sentence([["b c", "O"]])]),
    ).rejects.toThrow(
      'writeColumns: blocks[1].rows[0][0]: expected a non-empty cell without spaces, tabs or line breaks, got "b c"',
    );
  });
});
