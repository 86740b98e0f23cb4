import type { TaggedSentence } from "@xlt/data";
import { type LabelledSentence, SequenceTagger, type SequenceTaggerConfig, WordVocabulary } from "@xlt/heads";
import { f1Score, sentenceStatistics, tokenAccuracy } from "@xlt/metrics";
import { CharVocabulary, trainTokenizer, type WordTokenizer } from "@xlt/tokenize";
import type { ModelConfig } from "./cli.js";
import { TransferError } from "./errors.js";

/** Words seen fewer times than this in the vocabulary text map to the unknown word (so it is trained). */
export const MIN_WORD_COUNT = 2;

/** The vocabularies every recipe of one target shares, so that all three train the same model. */
export interface SharedVocabularies {
  readonly tokenizer: WordTokenizer;
  readonly config: SequenceTaggerConfig;
}

/**
 * Vocabularies from `text` (source + target + unlabelled sentences): a WordPiece tokenizer trained
 * with `@xlt/tokenize`'s `trainTokenizer` (the shared subword vocabulary), the word vocabulary (words
 * seen at least {@link MIN_WORD_COUNT} times) and the characters; labels from the `labelled` sentences.
 * `config` is a `SequenceTagger` config with these vocabularies and `model`'s sizes.
 */
export function sharedVocabularies(
  labelled: readonly LabelledSentence[],
  text: readonly (readonly string[])[],
  model: ModelConfig,
  task: "pos" | "ner",
): SharedVocabularies {
  const { tokenizer } = trainTokenizer(text, {
    model: "wordpiece",
    vocabSize: model.vocabSize,
    minFrequency: 2,
  });
  const base = SequenceTagger.create(labelled, {
    ...(task === "ner" ? { scheme: "BIO" as const } : {}),
    wordDim: model.wordDim,
    minCount: MIN_WORD_COUNT,
    charEncoder: "cnn",
    charHidden: model.charHidden,
    hidden: model.hidden,
    layers: model.layers,
    dropout: model.dropout,
    subwords: tokenizer,
    subwordDim: model.subwordDim,
  });
  const words = WordVocabulary.fromSentences(text, { minCount: MIN_WORD_COUNT });
  const chars = CharVocabulary.fromWords(text);
  return { tokenizer, config: { ...base.config, words: words.toJSON(), chars: [...chars.chars] } };
}

/** A fresh tagger with the shared vocabularies; `seed` seeds its dropout masks. */
export function newTagger(shared: SharedVocabularies, seed: number): SequenceTagger {
  return new SequenceTagger({ ...shared.config, options: { ...shared.config.options, seed } });
}

function checkPairs(
  fn: string,
  gold: readonly TaggedSentence[],
  predicted: readonly (readonly string[])[],
): void {
  if (gold.length !== predicted.length)
    throw new TransferError(fn, "predicted", `${gold.length} sentences`, String(predicted.length));
}

/** The task's score: POS token accuracy, NER micro entity F1 with seqeval semantics. */
export function taskScore(
  task: "pos" | "ner",
  gold: readonly TaggedSentence[],
  predicted: readonly (readonly string[])[],
): number {
  checkPairs("taskScore", gold, predicted);
  const yTrue = gold.map((s) => [...s.tags]);
  const yPred = predicted.map((p) => [...p]);
  return task === "pos" ? tokenAccuracy(yTrue, yPred).accuracy : f1Score(yTrue, yPred);
}

/**
 * Per-sentence sufficient statistics of the task's score, for paired resampling: POS `[correct,
 * tokens]`, NER `[true positives, predicted, gold]` entities summed over types (micro F1 needs no more).
 */
export function sentenceTotals(
  task: "pos" | "ner",
  gold: readonly TaggedSentence[],
  predicted: readonly (readonly string[])[],
): number[][] {
  checkPairs("sentenceTotals", gold, predicted);
  if (task === "pos")
    return gold.map((s, i) => [s.tags.filter((tag, t) => predicted[i]?.[t] === tag).length, s.tags.length]);
  const stats = sentenceStatistics(
    gold.map((s) => [...s.tags]),
    predicted.map((p) => [...p]),
  );
  const [rows, columns] = stats.dims;
  return Array.from({ length: rows }, (_, row) => {
    const totals = [0, 0, 0];
    for (let column = 0; column < columns; column += 1)
      totals[column % 3] = (totals[column % 3] ?? 0) + (stats.data[row * columns + column] ?? 0);
    return totals;
  });
}

/** The corpus score from summed sentence totals (the metric the paired bootstrap recomputes). */
export function scoreFromTotals(task: "pos" | "ner", totals: ArrayLike<number>): number {
  if (task === "pos") return (totals[1] ?? 0) === 0 ? 0 : (totals[0] ?? 0) / (totals[1] ?? 0);
  const [tp, predicted, gold] = [totals[0] ?? 0, totals[1] ?? 0, totals[2] ?? 0];
  return predicted + gold === 0 ? 0 : (2 * tp) / (predicted + gold);
}
