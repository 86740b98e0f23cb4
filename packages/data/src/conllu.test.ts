import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  conlluToTagged,
  formatConllu,
  formatConlluSentence,
  parseConllu,
  readConllu,
  writeConllu,
} from "./conllu.js";
import { corpusFile, listCorpora, loadCorpus, type Split } from "./registry.js";

const row = (...cols: string[]): string => cols.join("\t");

const SAMPLE = [
  "# sent_id = s1",
  "# text = Vámonos al mar.",
  row("1-2", "Vámonos", "_", "_", "_", "_", "_", "_", "_", "_"),
  row("1", "Vamos", "ir", "VERB", "_", "_", "0", "root", "_", "_"),
  row("2", "nos", "nosotros", "PRON", "_", "_", "1", "obj", "_", "_"),
  row("3-4", "al", "_", "_", "_", "_", "_", "_", "_", "_"),
  row("3", "a", "a", "ADP", "_", "_", "5", "case", "_", "_"),
  row("4", "el", "el", "DET", "_", "_", "5", "det", "_", "_"),
  row("4.1", "ir", "ir", "VERB", "_", "_", "_", "_", "0:root", "_"),
  row("5", "mar", "mar", "NOUN", "_", "_", "1", "obl", "_", "SpaceAfter=No"),
  row("6", ".", ".", "PUNCT", "_", "_", "1", "punct", "_", "_"),
  "",
  row("1", "Hola", "hola", "INTJ", "intj", "_", "0", "root", "_", "_"),
  "",
  "",
].join("\n");

async function* chunks(text: string, cuts: number[]): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("parseConllu", () => {
  it("reads comments, multiword ranges and empty nodes", () => {
    const [first, second] = parseConllu(SAMPLE);
    expect(first?.id).toBe("s1");
    expect(first?.text).toBe("Vámonos al mar.");
    expect(first?.tokens.map((t) => t.id)).toEqual(["1-2", "1", "2", "3-4", "3", "4", "4.1", "5", "6"]);
    expect(first?.line).toBe(1);
    expect(second?.line).toBe(13);
    expect(second?.tokens[0]?.xpos).toBe("intj");
  });

  it("gives syntactic words with UPOS (or XPOS), skipping ranges and empty nodes", () => {
    const [first, second] = parseConllu(SAMPLE);
    expect(conlluToTagged(first!)).toEqual({
      words: ["Vamos", "nos", "a", "el", "mar", "."],
      tags: ["VERB", "PRON", "ADP", "DET", "NOUN", "PUNCT"],
      id: "s1",
      text: "Vámonos al mar.",
    });
    expect(conlluToTagged(second!, "xpos")).toEqual({ words: ["Hola"], tags: ["intj"] });
  });

  it("formats back to the same text", () => {
    expect(formatConllu(parseConllu(SAMPLE))).toBe(SAMPLE);
  });

  it("accepts CRLF line ends, a byte order mark and a missing final blank line", () => {
    const text = `\uFEFF${row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")}\r\n`;
    expect(parseConllu(text).map((s) => conlluToTagged(s))).toEqual([{ words: ["a"], tags: ["X"] }]);
  });

  const bad: [string, string][] = [
    [row("1", "a", "a", "X"), '<string>:1: expected 10 tab-separated columns, got 4 in "1\\ta\\ta\\tX"'],
    [
      `${row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")}\n${row("3", "b", "b", "X", "_", "_", "0", "root", "_", "_")}`,
      '<string>:2: expected word id 2, got "3"',
    ],
    [
      row("1", "a", "a", "NOUNY", "_", "_", "0", "root", "_", "_"),
      '<string>:1: expected a UPOS tag (ADJ, ADP, ..., X), got "NOUNY"',
    ],
    [
      row("2-3", "a", "_", "_", "_", "_", "_", "_", "_", "_"),
      '<string>:1: expected a multiword range starting at word 1, got "2-3"',
    ],
    [
      row("1-1", "a", "_", "_", "_", "_", "_", "_", "_", "_"),
      '<string>:1: expected a multiword range starting at word 1, got "1-1"',
    ],
    [
      row("3.1", "a", "_", "_", "_", "_", "_", "_", "_", "_"),
      '<string>:1: expected an empty node after word 0, got "3.1"',
    ],
    [
      row("x", "a", "a", "X", "_", "_", "0", "root", "_", "_"),
      '<string>:1: expected an ID like 7, 3-4 or 5.1, got "x"',
    ],
    [
      row("1", "", "a", "X", "_", "_", "0", "root", "_", "_"),
      "<string>:1: expected a non-empty FORM, got an empty column",
    ],
    [
      `${row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")}\n# late`,
      '<string>:2: expected comment lines only before the token lines of a sentence, got "# late"',
    ],
    ["# sent_id = 1\n\n", "<string>:2: expected token lines after the comment lines, got a blank line"],
    ["\n# sent_id = 1", "<string>:2: expected token lines after the comment lines, got end of input"],
    [
      `${row("1-3", "ab", "_", "_", "_", "_", "_", "_", "_", "_")}\n${row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")}\n${row("2", "b", "b", "X", "_", "_", "1", "dep", "_", "_")}\n`,
      '<string>:1: expected a multiword range ending at a word of the sentence (<= 2), got "1-3"',
    ],
    [
      `${row("1-2", "ab", "_", "_", "_", "_", "_", "_", "_", "_")}\n${row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")}\n${row("2-3", "bc", "_", "_", "_", "_", "_", "_", "_", "_")}`,
      '<string>:3: expected a multiword range after the end of "1-2", got "2-3"',
    ],
  ];
  it.each(bad)("rejects %j with file:line", (text, message) => {
    expect(() => parseConllu(text)).toThrow(`parseConllu: ${message}`);
  });
});

describe("readConllu (streaming)", () => {
  it("gives the same sentences however the bytes are chunked, even inside a UTF-8 character", async () => {
    const expected = parseConllu(SAMPLE);
    const length = new TextEncoder().encode(SAMPLE).length;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: length }), { maxLength: 8 }), async (cuts) => {
        expect(await collect(readConllu(chunks(SAMPLE, cuts)))).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it("names the file and line in errors", async () => {
    const text = `${row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")}\n\n${row("1", "b", "b", "Q", "_", "_", "0", "root", "_", "_")}\n`;
    await expect(collect(readConllu(chunks(text, [5]), { source: "x.conllu" }))).rejects.toThrow(
      'readConllu: x.conllu:3: expected a UPOS tag (ADJ, ADP, ..., X), got "Q"',
    );
  });

  it("names a missing file", async () => {
    await expect(collect(readConllu("/nonexistent/x.conllu"))).rejects.toThrow(
      'readConllu: source: expected a readable file, got "/nonexistent/x.conllu"',
    );
  });

  it("rejects bytes that are not UTF-8", async () => {
    async function* bad(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([0x31, 0x0a, 0xff, 0x0a]);
    }
    await expect(collect(readConllu(bad()))).rejects.toThrow(
      "readConllu: <stream>: expected UTF-8 text, got bytes that are not valid UTF-8 after line 0",
    );
  });
});

const UD_FILES = listCorpora({ dataset: "ud" }).flatMap((info) =>
  Object.keys(info.splits).map((split) => [info.name, split] as const),
);

describe("bundled CoNLL-U files", () => {
  it.each(UD_FILES)(
    "%s %s round-trips byte for byte and matches its documented size",
    async (name, split) => {
      const path = corpusFile(name, split as Split);
      const original = await readFile(path, "utf8");
      const sentences = await collect(readConllu(path));
      expect(formatConllu(sentences)).toBe(original);
      const info = listCorpora().find((c) => c.name === name)!;
      const size = info.splits[split as Split]!;
      expect(sentences.length).toBe(size.sentences);
      expect(sentences.reduce((n, s) => n + conlluToTagged(s).words.length, 0)).toBe(size.tokens);
    },
  );

  it("writes a file that reads back the same", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xlt-data-"));
    const path = corpusFile("ud/hsb_ufal", "test");
    const out = join(dir, "copy.conllu");
    expect(await writeConllu(out, readConllu(path))).toBe(644);
    expect(await readFile(out, "utf8")).toBe(await readFile(path, "utf8"));
  });
});

describe("formatting and tagging never lose or garble a field", () => {
  const [first, second] = parseConllu(SAMPLE);
  const word = second?.tokens[0];

  it("refuses fields that would not read back the same", async () => {
    if (first === undefined || second === undefined || word === undefined) throw new Error("SAMPLE");
    const withForm = (form: string) => ({ ...second, tokens: [{ ...word, form }] });
    expect(() => formatConlluSentence(withForm("New\tYork"))).toThrow(
      'formatConlluSentence: sentence.tokens[0].form: expected a non-empty field without tabs or line breaks (_ for none), got "New\\tYork"',
    );
    expect(() => formatConllu([first, withForm("a\nb")])).toThrow(
      'formatConllu: sentences[1].tokens[0].form: expected a non-empty field without tabs or line breaks (_ for none), got "a\\nb"',
    );
    expect(() => formatConllu([{ ...second, tokens: [{ ...word, misc: "" }] }])).toThrow(
      "formatConllu: sentences[0].tokens[0].misc: expected a non-empty field",
    );
    expect(() => formatConlluSentence({ comments: ["sent_id = 1"], tokens: [word] })).toThrow(
      'formatConlluSentence: sentence.comments[0]: expected one line starting with #, got "sent_id = 1"',
    );
    expect(() => formatConlluSentence({ comments: ["# a\n# b"], tokens: [word] })).toThrow(
      "formatConlluSentence: sentence.comments[0]: expected one line starting with #",
    );
    expect(() => formatConlluSentence({ comments: ["# sent_id = 9"], tokens: [] })).toThrow(
      "formatConlluSentence: sentence.tokens: expected at least one token, got none",
    );
    const dir = await mkdtemp(join(tmpdir(), "xlt-conllu-"));
    await expect(writeConllu(join(dir, "bad.conllu"), [first, withForm("x y\tz")])).rejects.toThrow(
      "writeConllu: sentences[1].tokens[0].form:",
    );
  });

  it("refuses to turn a missing tag (_) into a tag", async () => {
    if (first === undefined) throw new Error("SAMPLE");
    expect(() => conlluToTagged(first, "xpos")).toThrow(
      'conlluToTagged: sentence.tokens[1].xpos: expected a XPOS tag on every word, got "_" (none)',
    );
    await expect(loadCorpus("ud/da_ddt", "dev", { column: "xpos" })).rejects.toThrow(
      /^loadCorpus: options\.column: expected a column with a tag on every word \(ud\/da_ddt has "_" at .*da_ddt\/dev\.conllu:\d+\), got "xpos"$/,
    );
  });
});
