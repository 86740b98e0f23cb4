import type { Sentence } from "./model.js";

/**
 * The most-frequent-tag baseline: each word form gets the tag it carried most often in training;
 * a word never seen gets the most frequent tag overall. Ties go to the alphabetically first tag.
 */
export class MostFrequentTag {
  readonly #byWord: Map<string, string>;
  readonly fallback: string;

  constructor(training: readonly Sentence[]) {
    const counts = new Map<string, Map<string, number>>();
    const overall = new Map<string, number>();
    for (const { words, tags } of training) {
      words.forEach((word, index) => {
        const tag = tags[index] as string;
        const forWord = counts.get(word) ?? new Map<string, number>();
        forWord.set(tag, (forWord.get(tag) ?? 0) + 1);
        counts.set(word, forWord);
        overall.set(tag, (overall.get(tag) ?? 0) + 1);
      });
    }
    this.#byWord = new Map([...counts].map(([word, forWord]) => [word, mostFrequent(forWord)]));
    this.fallback = mostFrequent(overall);
  }

  predict(words: readonly string[]): string[] {
    return words.map((word) => this.#byWord.get(word) ?? this.fallback);
  }

  /** Token accuracy over sentences. */
  accuracy(sentences: readonly Sentence[]): number {
    let correct = 0;
    let total = 0;
    for (const { words, tags } of sentences) {
      this.predict(words).forEach((tag, index) => {
        if (tag === tags[index]) correct++;
      });
      total += words.length;
    }
    return total === 0 ? 0 : correct / total;
  }
}

function mostFrequent(counts: Map<string, number>): string {
  let best = "";
  let bestCount = -1;
  for (const [tag, count] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (count > bestCount) {
      best = tag;
      bestCount = count;
    }
  }
  return best;
}
