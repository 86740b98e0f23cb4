import { checkSameShape, checkSentences } from "./entities.js";
import { MetricsError } from "./errors.js";

/**
 * seqeval's `accuracy_score`: the fraction of tags (not entities) that are right, over all sentences.
 * This is token accuracy, not an F1; report it under that name.
 */
export function accuracyScore(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
): number {
  const fn = "accuracyScore";
  checkSentences(fn, "yTrue", yTrue);
  checkSentences(fn, "yPred", yPred);
  checkSameShape(fn, yTrue, yPred);
  let correct = 0;
  let total = 0;
  for (let s = 0; s < yTrue.length; s++) {
    const gold = yTrue[s]!;
    const predicted = yPred[s]!;
    for (let t = 0; t < gold.length; t++) if (gold[t] === predicted[t]) correct++;
    total += gold.length;
  }
  if (total === 0) throw new MetricsError(fn, "yTrue", "at least one tag", "0 tags");
  return correct / total;
}

/** A label: a tag string or a class id. */
export type Label = string | number;

export interface TokenAccuracyOptions {
  /** Gold labels to leave out (padding, `-100`, subword continuations); nothing is left out by default. */
  readonly ignore?: readonly Label[];
}

/** The result of `tokenAccuracy`: the counts it came from travel with it. */
export interface TokenAccuracy {
  readonly accuracy: number;
  readonly correct: number;
  readonly total: number;
}

/**
 * Token accuracy over label sequences (strings or class ids), skipping positions whose gold label is in
 * `ignore`, so that padding never counts. Token accuracy is not entity F1: a tagger can reach 95% token
 * accuracy with a much lower F1 because `O` dominates.
 */
export function tokenAccuracy(
  yTrue: readonly (readonly Label[])[],
  yPred: readonly (readonly Label[])[],
  options: TokenAccuracyOptions = {},
): TokenAccuracy {
  const fn = "tokenAccuracy";
  if (!Array.isArray(yTrue)) throw new MetricsError(fn, "yTrue", "an array of label sequences", typeof yTrue);
  if (!Array.isArray(yPred)) throw new MetricsError(fn, "yPred", "an array of label sequences", typeof yPred);
  if (yTrue.length !== yPred.length) {
    throw new MetricsError(fn, "yPred", `${yTrue.length} sequences like yTrue`, `${yPred.length}`);
  }
  const ignore = new Set<Label>(options.ignore ?? []);
  let correct = 0;
  let total = 0;
  for (let s = 0; s < yTrue.length; s++) {
    const gold = yTrue[s]!;
    const predicted = yPred[s]!;
    if (!Array.isArray(gold) || !Array.isArray(predicted) || gold.length !== predicted.length) {
      throw new MetricsError(
        fn,
        `yPred[${s}]`,
        `${Array.isArray(gold) ? gold.length : "?"} labels like yTrue[${s}]`,
        Array.isArray(predicted) ? `${predicted.length}` : typeof predicted,
      );
    }
    for (let t = 0; t < gold.length; t++) {
      if (ignore.has(gold[t]!)) continue;
      total++;
      if (gold[t] === predicted[t]) correct++;
    }
  }
  if (total === 0) throw new MetricsError(fn, "yTrue", "at least one label that is not ignored", "0");
  return { accuracy: correct / total, correct, total };
}
