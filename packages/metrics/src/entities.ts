import { MetricsError } from "./errors.js";
import { detectScheme, type Scheme, strictChunks } from "./schemes.js";

/** `"default"`: conlleval/seqeval lenient chunking; `"strict"`: the scheme's rules (seqeval `mode="strict"`). */
export type Mode = "default" | "strict";

/** An entity span in one sentence: tokens `start` (inclusive) to `end` (exclusive). */
export interface Entity {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** An entity together with the index of the sentence it lies in. */
export interface CorpusEntity extends Entity {
  readonly sentence: number;
}

export interface EntityOptions {
  /** `"default"` (lenient, the seqeval default) or `"strict"`. */
  readonly mode?: Mode;
  /**
   * The tagging scheme for strict mode; detected from the tags (gold tags `yTrue` for the scores) when left
   * out (IOB2, IOE2, IOBES, BILOU). seqeval 1.2.2's `f1_score`, `precision_score` and `recall_score` instead
   * fall back to lenient scoring when `mode="strict"` comes without a scheme; see the README.
   */
  readonly scheme?: Scheme;
  /** Tags carry their position letter at the end (`PER-B`) instead of the start. */
  readonly suffix?: boolean;
}

/** Validates `sentences` as a list of lists of non-empty strings. */
export function checkSentences(
  fn: string,
  argument: string,
  sentences: unknown,
): readonly (readonly string[])[] {
  if (!Array.isArray(sentences)) {
    throw new MetricsError(fn, argument, "an array of sentences (arrays of tags)", typeof sentences);
  }
  for (let s = 0; s < sentences.length; s++) {
    const sentence: unknown = sentences[s];
    if (!Array.isArray(sentence)) {
      throw new MetricsError(fn, `${argument}[${s}]`, "an array of tags", typeof sentence);
    }
    for (let t = 0; t < sentence.length; t++) {
      const tag: unknown = sentence[t];
      if (typeof tag !== "string" || tag.length === 0) {
        throw new MetricsError(fn, `${argument}[${s}][${t}]`, "a non-empty string tag", JSON.stringify(tag));
      }
    }
  }
  return sentences;
}

/** Checks that two corpora have the same number of sentences and the same length for each sentence. */
export function checkSameShape(
  fn: string,
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
): void {
  if (yTrue.length !== yPred.length) {
    throw new MetricsError(fn, "yPred", `${yTrue.length} sentences like yTrue`, `${yPred.length}`);
  }
  for (let s = 0; s < yTrue.length; s++) {
    if (yTrue[s]!.length !== yPred[s]!.length) {
      throw new MetricsError(
        fn,
        `yPred[${s}]`,
        `${yTrue[s]!.length} tags like yTrue[${s}]`,
        `${yPred[s]!.length}`,
      );
    }
  }
}

/** Python's `str.split("-", 1)[-1] or "_"` on the text after the position letter. */
function lenientType(rest: string): string {
  const dash = rest.indexOf("-");
  return (dash < 0 ? rest : rest.slice(dash + 1)) || "_";
}

/** Python's `text.rsplit("-", 1)[0] or "_"` on the text before a suffix position letter. */
function lenientSuffixType(rest: string): string {
  const dash = rest.lastIndexOf("-");
  return (dash < 0 ? rest : rest.slice(0, dash)) || "_";
}

function endOfChunk(previousTag: string, tag: string, previousType: string, type: string): boolean {
  if (previousTag === "E" || previousTag === "S") return true;
  if ((previousTag === "B" || previousTag === "I") && (tag === "B" || tag === "S" || tag === "O"))
    return true;
  return previousTag !== "O" && previousTag !== "." && previousType !== type;
}

function startOfChunk(previousTag: string, tag: string, previousType: string, type: string): boolean {
  if (tag === "B" || tag === "S") return true;
  if ((previousTag === "E" || previousTag === "S" || previousTag === "O") && (tag === "E" || tag === "I")) {
    return true;
  }
  return tag !== "O" && tag !== "." && previousType !== type;
}

/**
 * conlleval/seqeval lenient chunking of one flat tag sequence (seqeval 1.2.2 `get_entities`): returns
 * `[type, start, end)` triples. Any tag letter is accepted; `I-X` after `O` opens a chunk.
 */
export function lenientChunks(tags: readonly string[], suffix: boolean): Array<[string, number, number]> {
  const chunks: Array<[string, number, number]> = [];
  let previousTag = "O";
  let previousType = "";
  let begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const chunk = i < tags.length ? tags[i]! : "O";
    const tag = suffix ? chunk.slice(-1) : chunk.slice(0, 1);
    const type = suffix ? lenientSuffixType(chunk.slice(0, -1)) : lenientType(chunk.slice(1));
    if (endOfChunk(previousTag, tag, previousType, type)) chunks.push([previousType, begin, i]);
    if (startOfChunk(previousTag, tag, previousType, type)) begin = i;
    previousTag = tag;
    previousType = type;
  }
  return chunks;
}

/**
 * The entities of a whole corpus, each with its sentence index, as seqeval computes them: default mode
 * chunks the sentences joined by an `O` separator (seqeval's flattening), strict mode chunks each sentence
 * under the scheme.
 */
export function corpusEntities(
  fn: string,
  argument: string,
  sentences: readonly (readonly string[])[],
  options: EntityOptions,
  scheme: Scheme | undefined,
): CorpusEntity[] {
  const suffix = options.suffix ?? false;
  const entities: CorpusEntity[] = [];
  if ((options.mode ?? "default") === "strict") {
    const resolved = scheme ?? detectScheme(fn, argument, sentences, suffix);
    for (let s = 0; s < sentences.length; s++) {
      for (const [type, start, end] of strictChunks(fn, argument, sentences[s]!, resolved, suffix)) {
        entities.push({ type, start, end, sentence: s });
      }
    }
    return entities;
  }
  const flat: string[] = [];
  const offsets: number[] = [];
  const sentenceOf: number[] = [];
  for (let s = 0; s < sentences.length; s++) {
    offsets.push(flat.length);
    for (const tag of sentences[s]!) {
      flat.push(tag);
      sentenceOf.push(s);
    }
    flat.push("O");
    sentenceOf.push(s);
  }
  for (const [type, start, end] of lenientChunks(flat, suffix)) {
    const sentence = sentenceOf[start]!;
    const offset = offsets[sentence]!;
    entities.push({ type, start: start - offset, end: end - offset, sentence });
  }
  return entities;
}

function checkMode(fn: string, mode: unknown): void {
  if (mode !== undefined && mode !== "default" && mode !== "strict") {
    throw new MetricsError(fn, "options.mode", '"default" or "strict"', JSON.stringify(mode));
  }
}

export function checkEntityOptions(fn: string, options: EntityOptions): void {
  checkMode(fn, options.mode);
  const scheme: unknown = options.scheme;
  if (scheme !== undefined && !["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"].includes(String(scheme))) {
    throw new MetricsError(
      fn,
      "options.scheme",
      "one of IOB1, IOB2, IOE1, IOE2, IOBES, BILOU",
      JSON.stringify(scheme),
    );
  }
}

/**
 * The entity spans of one sentence.
 *
 * Default mode follows conlleval/seqeval's lenient chunking (an `I-` after `O` starts an entity); strict
 * mode follows the scheme's rules exactly (seqeval `mode="strict"`), detecting the scheme from `tags` when
 * none is given. That detection is this package's choice: seqeval 1.2.2's `get_entities` has no strict mode,
 * and its strict `Entities` needs the scheme.
 *
 * @example getEntities(["B-PER", "I-PER", "O", "B-LOC"]) // [{ type: "PER", start: 0, end: 2 }, { type: "LOC", start: 3, end: 4 }]
 */
export function getEntities(tags: readonly string[], options: EntityOptions = {}): Entity[] {
  const fn = "getEntities";
  if (!Array.isArray(tags)) throw new MetricsError(fn, "tags", "an array of tags", typeof tags);
  tags.forEach((tag: unknown, index) => {
    if (typeof tag !== "string" || tag.length === 0) {
      throw new MetricsError(fn, `tags[${index}]`, "a non-empty string tag", JSON.stringify(tag));
    }
  });
  checkEntityOptions(fn, options);
  return corpusEntities(fn, "tags", [tags], options, options.scheme).map(({ type, start, end }) => ({
    type,
    start,
    end,
  }));
}
