import { HeadsError } from "./errors.js";

/** JSON form of a {@link WordVocabulary}. */
export interface WordVocabularyJson {
  readonly words: readonly string[];
  readonly lowercase: boolean;
}

/**
 * Word forms with ids for an embedding table: id 0 pads, id 1 stands for unknown words, the words
 * follow in the order given. With `lowercase`, lookups lowercase the word first.
 */
export class WordVocabulary {
  static readonly PAD = 0;
  static readonly UNK = 1;
  readonly words: readonly string[];
  readonly lowercase: boolean;
  private readonly ids: ReadonlyMap<string, number>;

  constructor(words: readonly string[], lowercase = false) {
    this.words = [...words];
    this.lowercase = lowercase;
    this.ids = new Map(words.map((word, index) => [word, index + 2]));
    if (this.ids.size !== words.length)
      throw new HeadsError(
        "WordVocabulary",
        "words",
        "distinct words",
        `${words.length - this.ids.size} repeats`,
      );
  }

  /** Words seen at least `minCount` times in `sentences`, most frequent first (ties in first-seen order). */
  static fromSentences(
    sentences: Iterable<readonly string[]>,
    options: { readonly minCount?: number; readonly lowercase?: boolean } = {},
  ): WordVocabulary {
    const minCount = options.minCount ?? 1;
    if (!(Number.isInteger(minCount) && minCount >= 1))
      throw new HeadsError(
        "WordVocabulary.fromSentences",
        "options.minCount",
        "an integer >= 1",
        String(minCount),
      );
    const lowercase = options.lowercase ?? false;
    const counts = new Map<string, number>();
    for (const words of sentences) {
      for (const word of words) {
        const key = lowercase ? word.toLowerCase() : word;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const kept = [...counts].filter(([, count]) => count >= minCount);
    kept.sort((a, b) => b[1] - a[1]);
    return new WordVocabulary(
      kept.map(([word]) => word),
      lowercase,
    );
  }

  static fromJSON(json: WordVocabularyJson): WordVocabulary {
    return new WordVocabulary(json.words, json.lowercase);
  }

  toJSON(): WordVocabularyJson {
    return { words: [...this.words], lowercase: this.lowercase };
  }

  /** Number of ids, padding and unknown included. */
  get size(): number {
    return this.words.length + 2;
  }

  /** Id of a word (1 when unknown). */
  id(word: string): number {
    return this.ids.get(this.lowercase ? word.toLowerCase() : word) ?? WordVocabulary.UNK;
  }
}
