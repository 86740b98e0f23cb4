import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { corpusFile, listCorpora, type Split } from "./registry.js";
import { formatUner, formatUnerSentence, parseUner, readUner, unerToTagged, writeUner } from "./uner.js";

const SAMPLE = [
  "# newdoc id = d1",
  "# sent_id = train-0",
  "# text = Kjeld Christensen går.",
  "1\tKjeld\tB-PER\tB-PER#O\ts",
  "2\tChristensen\tI-PER\tI-PER#O\ts",
  "3\tgår.\tO\t-\t-",
  "",
  "",
].join("\n");

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("parseUner", () => {
  it("reads tokens and IOB2 tags with sent_id and text", () => {
    const sentences = parseUner(SAMPLE);
    expect(sentences.map(unerToTagged)).toEqual([
      {
        words: ["Kjeld", "Christensen", "går."],
        tags: ["B-PER", "I-PER", "O"],
        id: "train-0",
        text: "Kjeld Christensen går.",
      },
    ]);
    expect(formatUner(sentences)).toBe(SAMPLE);
  });

  const bad: [string, string][] = [
    [
      "1\tKjeld\tB-PER",
      '<string>:1: expected 5 tab-separated columns (index token tag extra annotator), got 3 in "1\\tKjeld\\tB-PER"',
    ],
    ["2\tKjeld\tB-PER\t-\t-", '<string>:1: expected token index 1, got "2"'],
    ["1\t\tO\t-\t-", "<string>:1: expected a non-empty token, got an empty column"],
    ["1\tKjeld\tPER\t-\t-", '<string>:1: expected an IOB tag (O, B-TYPE or I-TYPE), got "PER"'],
    ["# text = x\n\n", "<string>:2: expected token lines after the comment lines, got a blank line"],
    ["# text = x", "<string>:1: expected token lines after the comment lines, got end of input"],
  ];
  it.each(bad)("rejects %j with file:line", (text, message) => {
    expect(() => parseUner(text)).toThrow(`parseUner: ${message}`);
  });

  it("names the file in streaming errors", async () => {
    async function* text(): AsyncGenerator<string> {
      yield "1\ta\tO\t-\t-\n2\tb\tX-LOC\t-\t-\n";
    }
    await expect(collect(readUner(text(), { source: "u.iob2" }))).rejects.toThrow(
      'readUner: u.iob2:2: expected an IOB tag (O, B-TYPE or I-TYPE), got "X-LOC"',
    );
  });
});

const UNER_FILES = listCorpora({ dataset: "uner" }).flatMap((info) =>
  Object.keys(info.splits).map((split) => [info.name, split] as const),
);

describe("bundled Universal NER files", () => {
  it.each(UNER_FILES)(
    "%s %s round-trips byte for byte and matches its documented size",
    async (name, split) => {
      const path = corpusFile(name, split as Split);
      const sentences = await collect(readUner(path));
      expect(formatUner(sentences)).toBe(await readFile(path, "utf8"));
      const size = listCorpora().find((c) => c.name === name)!.splits[split as Split]!;
      expect(sentences.length).toBe(size.sentences);
      expect(sentences.reduce((n, s) => n + s.rows.length, 0)).toBe(size.tokens);
    },
  );

  it("writes a file that reads back the same", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xlt-data-"));
    const path = corpusFile("uner/sv_talbanken", "dev");
    const out = join(dir, "copy.iob2");
    expect(await writeUner(out, readUner(path))).toBe(504);
    expect(await readFile(out, "utf8")).toBe(await readFile(path, "utf8"));
  });
});

describe("formatUner", () => {
  it("refuses sentences that would not read back the same", async () => {
    const [sentence] = parseUner(SAMPLE);
    if (sentence === undefined) throw new Error("SAMPLE");
    const withRow = (row: (typeof sentence.rows)[number]) => ({ ...sentence, rows: [row] });
    expect(() => formatUnerSentence(withRow(["1", "New\tYork", "B-LOC", "-", "-"]))).toThrow(
      'formatUnerSentence: sentence.rows[0][1]: expected a column without tabs or line breaks, got "New\\tYork"',
    );
    expect(() => formatUner([sentence, withRow(["1", "a", "B-LOC", "-", "x\ny"])])).toThrow(
      'formatUner: sentences[1].rows[0][4]: expected a column without tabs or line breaks, got "x\\ny"',
    );
    expect(() => formatUner([withRow(["2", "a", "O", "-", "-"])])).toThrow(
      'formatUner: sentences[0].rows[0][0]: expected token index 1, got "2"',
    );
    expect(() => formatUner([withRow(["1", "", "O", "-", "-"])])).toThrow(
      'formatUner: sentences[0].rows[0][1]: expected a non-empty token, got ""',
    );
    expect(() => formatUner([withRow(["1", "a", "PER", "-", "-"])])).toThrow(
      'formatUner: sentences[0].rows[0][2]: expected an IOB tag (O, B-TYPE or I-TYPE), got "PER"',
    );
    expect(() => formatUner([{ ...sentence, rows: [] }])).toThrow(
      "formatUner: sentences[0].rows: expected at least one row, got none",
    );
    expect(() => formatUner([{ ...sentence, comments: ["newdoc"] }])).toThrow(
      'formatUner: sentences[0].comments[0]: expected one line starting with #, got "newdoc"',
    );
    const dir = await mkdtemp(join(tmpdir(), "xlt-uner-"));
    await expect(writeUner(join(dir, "bad.iob2"), [withRow(["1", "a b\tc", "O", "-", "-"])])).rejects.toThrow(
      "writeUner: sentences[0].rows[0][1]: expected a column without tabs or line breaks",
    );
  });
});
