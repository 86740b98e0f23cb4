import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { DataError } from "./errors.js";

/** A line of a file without its terminator; `line` is 1-based. */
export interface Line {
  readonly text: string;
  readonly line: number;
}

/** What the streaming readers accept: a file path, or chunks of text or UTF-8 bytes (a stream, say). */
export type TextSource = string | AsyncIterable<string | Uint8Array>;

/**
 * Splits chunks of text into lines, streaming. Accepts `\n` and `\r\n` terminators; a leading UTF-8
 * byte order mark is dropped. A final line without a terminator is still yielded.
 */
export async function* readLines(source: TextSource, fn = "readLines"): AsyncGenerator<Line> {
  if (typeof source === "string") {
    const info = await stat(source).catch(() => undefined);
    if (info === undefined || !info.isFile())
      throw new DataError(fn, "source", "a readable file", JSON.stringify(source));
  }
  const chunks = typeof source === "string" ? createReadStream(source) : source;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending = "";
  let line = 0;
  let first = true;
  const where = typeof source === "string" ? source : "<stream>";
  const decode = (chunk: string | Uint8Array, stream: boolean): string => {
    if (typeof chunk === "string") return chunk;
    try {
      return decoder.decode(chunk, { stream });
    } catch {
      throw new DataError(fn, where, "UTF-8 text", `bytes that are not valid UTF-8 after line ${line}`);
    }
  };
  for await (const chunk of chunks) {
    let text = pending + decode(chunk, true);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    for (let end = text.indexOf("\n", start); end !== -1; end = text.indexOf("\n", start)) {
      line += 1;
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      yield { text: text.slice(start, stop), line };
      start = end + 1;
    }
    pending = text.slice(start);
  }
  pending += decode(new Uint8Array(0), false);
  if (pending.length > 0) yield { text: pending, line: line + 1 };
}

/** The same split as {@link readLines} for a string already in memory. */
export function* splitLines(text: string): Generator<Line> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let start = 0;
  let line = 0;
  for (let end = body.indexOf("\n", start); end !== -1; end = body.indexOf("\n", start)) {
    line += 1;
    const stop = end > start && body.charCodeAt(end - 1) === 13 ? end - 1 : end;
    yield { text: body.slice(start, stop), line };
    start = end + 1;
  }
  if (start < body.length) yield { text: body.slice(start), line: line + 1 };
}

/**
 * A line-at-a-time parser: `push` takes the next line and returns the block it completes (if any);
 * `end` returns the last block. Every format in this package is one of these, so the streaming and the
 * in-memory readers share one implementation.
 */
export interface BlockParser<T> {
  push(line: Line): T | undefined;
  end(): T | undefined;
}

/** Runs a block parser over a streaming source. */
export async function* parseStream<T>(
  source: TextSource,
  parser: BlockParser<T>,
  fn: string,
): AsyncGenerator<T> {
  for await (const line of readLines(source, fn)) {
    const block = parser.push(line);
    if (block !== undefined) yield block;
  }
  const last = parser.end();
  if (last !== undefined) yield last;
}

/** Runs a block parser over a string. */
export function parseText<T>(text: string, parser: BlockParser<T>): T[] {
  const blocks: T[] = [];
  for (const line of splitLines(text)) {
    const block = parser.push(line);
    if (block !== undefined) blocks.push(block);
  }
  const last = parser.end();
  if (last !== undefined) blocks.push(last);
  return blocks;
}
