import { DataError, show } from "./errors.js";
import { type BlockParser, type Line, parseStream, parseText, type TextSource } from "./lines.js";
import type { TaggedSentence } from "./types.js";
import { writeBlocks } from "./write.js";

/** A WikiANN sentence (Pan et al. 2017; Rahimi et al. 2019 splits): `lang:token TAG` lines. */
export interface WikiannSentence extends TaggedSentence {
  /** The language prefix of the tokens (`fo` in `fo:Tórshavn B-LOC`). */
  language: string;
  /** Separator between token and tag in the source (tab or space). */
  separator: " " | "\t";
  line?: number;
}

export interface WikiannReadOptions {
  /** Name used in error messages when the source is not a path. */
  source?: string;
}

const ROW = /^([a-z]{2,3}(?:[-_][A-Za-z0-9]+)?):(.+)([\t ])(\S+)$/;
const TAG = /^(O|[BIESLU]-\S+)$/;

function wikiannParser(source: string, fn: string): BlockParser<WikiannSentence> {
  let current: WikiannSentence | undefined;
  const finish = (): WikiannSentence | undefined => {
    const done = current;
    current = undefined;
    return done;
  };
  return {
    push(line: Line) {
      if (line.text.trim() === "") return finish();
      const where = { source, line: line.line };
      const match = ROW.exec(line.text);
      if (match === null) throw DataError.at(fn, where, "a line `lang:token TAG`", show(line.text));
      const [, language = "", word = "", separator = " ", tag = ""] = match;
      if (!TAG.test(tag)) throw DataError.at(fn, where, "an IOB tag (O, B-TYPE, I-TYPE, ...)", show(tag));
      const sep = separator === "\t" ? "\t" : " ";
      if (current === undefined) {
        current = { words: [], tags: [], language, separator: sep, line: line.line };
      } else if (current.language !== language) {
        throw DataError.at(
          fn,
          where,
          `the language prefix of the sentence (${current.language})`,
          show(language),
        );
      }
      current.words.push(word);
      current.tags.push(tag);
      return undefined;
    },
    end: finish,
  };
}

/** Streams the sentences of a WikiANN file; errors name `file:line`. */
export function readWikiann(
  source: TextSource,
  options: WikiannReadOptions = {},
): AsyncGenerator<WikiannSentence> {
  const name = options.source ?? (typeof source === "string" ? source : "<stream>");
  return parseStream(source, wikiannParser(name, "readWikiann"), "readWikiann");
}

/** {@link readWikiann} for a string in memory. */
export function parseWikiann(text: string, options: WikiannReadOptions = {}): WikiannSentence[] {
  return parseText(text, wikiannParser(options.source ?? "<string>", "parseWikiann"));
}

/** One sentence as WikiANN lines, ending with its blank line. */
export function formatWikiannSentence(sentence: WikiannSentence): string {
  const lines = sentence.words.map(
    (word, i) => `${sentence.language}:${word}${sentence.separator}${sentence.tags[i]}`,
  );
  return `${lines.join("\n")}\n\n`;
}

/** Sentences as a WikiANN file: reading then formatting gives the file back. */
export function formatWikiann(sentences: Iterable<WikiannSentence>): string {
  let out = "";
  for (const sentence of sentences) out += formatWikiannSentence(sentence);
  return out;
}

/** Streams sentences into a WikiANN file; resolves with the number written. */
export function writeWikiann(
  path: string,
  sentences: Iterable<WikiannSentence> | AsyncIterable<WikiannSentence>,
): Promise<number> {
  return writeBlocks(path, sentences, formatWikiannSentence);
}
