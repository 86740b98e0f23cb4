import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatWikiann, parseWikiann, readWikiann, writeWikiann } from "./wikiann.js";

const SAMPLE = "fo:Tórshavn\tB-LOC\nfo:er\tO\nfo:høvuðsstaður\tO\n\nfo:Jógvan\tB-PER\nfo:Isaksen\tI-PER\n\n";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("WikiANN files", () => {
  it("reads lang:token TAG lines and writes them back unchanged", async () => {
    const sentences = parseWikiann(SAMPLE);
    expect(sentences[0]).toMatchObject({
      language: "fo",
      words: ["Tórshavn", "er", "høvuðsstaður"],
      tags: ["B-LOC", "O", "O"],
    });
    expect(formatWikiann(sentences)).toBe(SAMPLE);
    const dir = await mkdtemp(join(tmpdir(), "xlt-wikiann-"));
    await writeWikiann(join(dir, "a.txt"), sentences);
    expect(await readFile(join(dir, "a.txt"), "utf8")).toBe(SAMPLE);
    expect(await collect(readWikiann(join(dir, "a.txt")))).toEqual(
      sentences.map((s) => ({ ...s, line: s.line })),
    );
  });

  it("keeps space separators and colons inside tokens", () => {
    const text = "hsb:12:30 O\nhsb:Budyšin B-LOC\n\n";
    expect(parseWikiann(text)[0]?.words).toEqual(["12:30", "Budyšin"]);
    expect(formatWikiann(parseWikiann(text))).toBe(text);
  });

  const bad: [string, string][] = [
    ["Tórshavn B-LOC\n", '<string>:1: expected a line `lang:token TAG`, got "Tórshavn B-LOC"'],
    ["fo:Tórshavn LOC\n", '<string>:1: expected an IOB tag (O, B-TYPE, I-TYPE, ...), got "LOC"'],
    ["fo:a O\nda:b O\n", '<string>:2: expected the language prefix of the sentence (fo), got "da"'],
  ];
  it.each(bad)("rejects %j with file:line", (input, message) => {
    expect(() => parseWikiann(input)).toThrow(`parseWikiann: ${message}`);
  });
});
