import { show, TokenizeError } from "./errors.js";

/** Padded character ids of a batch of sentences: `ids` shaped `[batch, words, chars]`, row-major. */
export interface CharBatch {
  ids: Int32Array;
  /** shape: [batch, words, chars] */
  dims: readonly [number, number, number];
  /** Characters per word, `[batch, words]` (0 for padding words). */
  wordLengths: Int32Array;
  /** Words per sentence. */
  sentenceLengths: Int32Array;
}

export interface CharEncodeOptions {
  /**
   * Characters kept per word; longer words keep their first `maxChars` characters (an explicit
   * choice: omit it and the longest word sets the width, so nothing is cut).
   */
  maxChars?: number;
}

/** JSON form of a {@link CharVocabulary}. */
export interface CharVocabularyJson {
  chars: string[];
}

/**
 * A character vocabulary for char-level word encoders: id 0 pads, id 1 stands for unknown characters,
 * characters (Unicode code points) follow in order of first appearance. Save it with the model.
 */
export class CharVocabulary {
  static readonly PAD = 0;
  static readonly UNK = 1;
  readonly chars: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  constructor(chars: readonly string[]) {
    chars.forEach((c, i) => {
      if (typeof c !== "string" || [...c].length !== 1) {
        throw new TokenizeError("CharVocabulary", `chars[${i}]`, "a single character", show(c));
      }
    });
    this.chars = [...chars];
    this.ids = new Map(chars.map((c, i) => [c, i + 2]));
    if (this.ids.size !== chars.length)
      throw new TokenizeError("CharVocabulary", "chars", "distinct characters", "repeats");
  }

  /** The characters seen at least `minCount` times in `sentences`. */
  static fromWords(sentences: Iterable<readonly string[]>, minCount = 1): CharVocabulary {
    if (!Number.isInteger(minCount) || minCount < 1) {
      throw new TokenizeError("CharVocabulary.fromWords", "minCount", "an integer >= 1", show(minCount));
    }
    const counts = new Map<string, number>();
    for (const words of sentences)
      for (const word of words) for (const c of word) counts.set(c, (counts.get(c) ?? 0) + 1);
    return new CharVocabulary([...counts].filter(([, n]) => n >= minCount).map(([c]) => c));
  }

  static fromJSON(json: CharVocabularyJson): CharVocabulary {
    return new CharVocabulary(json.chars);
  }

  toJSON(): CharVocabularyJson {
    return { chars: [...this.chars] };
  }

  /** Number of ids, padding and unknown included. */
  get size(): number {
    return this.chars.length + 2;
  }

  /** Id of a character (1 when unknown). */
  id(char: string): number {
    return this.ids.get(char) ?? CharVocabulary.UNK;
  }

  /** Character ids of a batch of sentences, padded with 0 to the longest sentence and word. */
  encodeBatch(sentences: readonly (readonly string[])[], options: CharEncodeOptions = {}): CharBatch {
    const batch = sentences.length;
    const steps = sentences.reduce((m, s) => Math.max(m, s.length), 0);
    let longest = 0;
    for (const words of sentences) for (const word of words) longest = Math.max(longest, [...word].length);
    const width = options.maxChars ?? longest;
    if (!Number.isInteger(width) || width < 0) {
      throw new TokenizeError(
        "CharVocabulary.encodeBatch",
        "options.maxChars",
        "an integer >= 0",
        show(options.maxChars),
      );
    }
    const ids = new Int32Array(batch * steps * width);
    const wordLengths = new Int32Array(batch * steps);
    const sentenceLengths = Int32Array.from(sentences, (s) => s.length);
    sentences.forEach((words, b) => {
      words.forEach((word, w) => {
        const chars = [...word].slice(0, width);
        wordLengths[b * steps + w] = chars.length;
        chars.forEach((c, k) => {
          ids[(b * steps + w) * width + k] = this.id(c); // [batch, words, chars]
        });
      });
    });
    return { ids, dims: [batch, steps, width], wordLengths, sentenceLengths };
  }
}
