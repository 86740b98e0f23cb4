import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { normal, Random } from "@xlt/nn";
import { HeadsError } from "./errors.js";
import type { WordVocabulary } from "./vocabulary.js";

/** Word vectors, e.g. aligned fastText vectors read from a `.vec` file. */
export interface WordVectors {
  readonly dim: number;
  readonly vectors: ReadonlyMap<string, Float32Array>;
}

export interface ReadVectorsOptions {
  /** Keep only the words this accepts (e.g. those of a vocabulary); default all. */
  readonly keep?: (word: string) => boolean;
  /** Read at most this many vectors (the file's first ones, the most frequent in fastText's). */
  readonly limit?: number;
}

/** Collects `.vec` lines: an optional `count dim` header, then `word v_1 … v_dim` per line. */
class VecParser {
  dim = 0;
  read = 0;
  readonly vectors = new Map<string, Float32Array>();

  constructor(
    private readonly fn: string,
    private readonly options: ReadVectorsOptions,
  ) {
    const limit = options.limit;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
      throw new HeadsError(fn, "options.limit", "a positive integer", String(limit));
  }

  get full(): boolean {
    return this.options.limit !== undefined && this.read >= this.options.limit;
  }

  line(text: string, number: number): void {
    const fields = text.trimEnd().split(" ");
    if (fields.length === 1 && fields[0] === "") return;
    if (number === 1 && fields.length === 2 && fields.every((field) => /^\d+$/.test(field))) {
      this.dim = Number(fields[1]);
      return;
    }
    const [word, ...values] = fields;
    if (this.dim === 0) this.dim = values.length;
    if (values.length !== this.dim || this.dim === 0)
      throw new HeadsError(
        this.fn,
        `line ${number}`,
        `a word and ${this.dim || "some"} numbers`,
        `${values.length} numbers`,
      );
    this.read += 1;
    if (this.vectors.has(word as string) || !(this.options.keep?.(word as string) ?? true)) return;
    const vector = Float32Array.from(values, Number);
    const bad = vector.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0)
      throw new HeadsError(this.fn, `line ${number}`, "finite numbers", JSON.stringify(values[bad]));
    this.vectors.set(word as string, vector);
  }

  result(): WordVectors {
    if (this.dim === 0) throw new HeadsError(this.fn, "text", "at least one vector", "none");
    return { dim: this.dim, vectors: this.vectors };
  }
}

/** Parses word vectors in the `.vec` text format (fastText; the header line is optional, as in GloVe). */
export function parseVectors(text: string, options: ReadVectorsOptions = {}): WordVectors {
  const parser = new VecParser("parseVectors", options);
  for (const [index, line] of text.split("\n").entries()) {
    if (parser.full) break;
    parser.line(line, index + 1);
  }
  return parser.result();
}

/** Streams a `.vec` file (aligned fastText vectors can be gigabytes: filter with `keep`, cap with `limit`). */
export async function readVectors(path: string, options: ReadVectorsOptions = {}): Promise<WordVectors> {
  const parser = new VecParser("readVectors", options);
  const lines = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    parser.line(line, number);
    if (parser.full) break;
  }
  lines.close();
  return parser.result();
}

/**
 * An embedding table `[vocabulary.size, vectors.dim]` (row-major) whose rows are the vectors of the
 * vocabulary's words (the exact form, else its lowercase form), the other rows drawn N(0, std²) from
 * `seed`; padding (row 0) is zeros. `found` counts the words that had a vector.
 */
export function embeddingFromVectors(
  vocabulary: WordVocabulary,
  vectors: WordVectors,
  options: { readonly seed?: number; readonly std?: number } = {},
): { weight: Float32Array; found: number } {
  const { dim } = vectors;
  const weight = Float32Array.from(
    normal(options.std ?? 1)([vocabulary.size, dim], new Random(options.seed ?? 0)),
  );
  weight.fill(0, 0, dim);
  let found = 0;
  for (const [index, word] of vocabulary.words.entries()) {
    const vector = vectors.vectors.get(word) ?? vectors.vectors.get(word.toLowerCase());
    if (!vector) continue;
    weight.set(vector, (index + 2) * dim);
    found += 1;
  }
  return { weight, found };
}
