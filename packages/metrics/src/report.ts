import {
  type CorpusEntity,
  checkEntityOptions,
  checkSameShape,
  checkSentences,
  corpusEntities,
  type EntityOptions,
} from "./entities.js";
import { MetricsError } from "./errors.js";
import { detectScheme, type Scheme } from "./schemes.js";

/** Precision, recall, F1 and support (number of gold entities) of one row of a report. */
export interface Scores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** How per-type scores are averaged (seqeval/scikit-learn semantics). */
export type Average = "micro" | "macro" | "weighted";

/** The value precision, recall (and F1) take when their denominator is zero (seqeval `zero_division`). */
export type ZeroDivision = 0 | 1;

export interface ScoreOptions extends EntityOptions {
  /** Value for 0/0 precision or recall; 0 by default (seqeval's `"warn"` also gives 0). */
  readonly zeroDivision?: ZeroDivision;
}

export interface ReportOptions extends ScoreOptions {
  /** Which average rows to include; all three by default. */
  readonly average?: readonly Average[];
}

/** `{ [type]: Scores, "micro avg": Scores, "macro avg": Scores, "weighted avg": Scores }`. */
export type ClassificationReport = Record<string, Scores>;

/** Per-type entity counts of a corpus: types sorted by code point, as seqeval sorts them. */
export interface EntityCounts {
  readonly types: readonly string[];
  readonly truePositives: readonly number[];
  readonly predicted: readonly number[];
  readonly gold: readonly number[];
}

/** Compares strings by Unicode code point, as Python's `sorted` does. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const difference = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return x.length - y.length;
}

function entityKey(entity: CorpusEntity): string {
  return `${entity.sentence}:${entity.start}:${entity.end}`;
}

/** Resolves the scheme once for a pair of corpora (strict mode detects it from `yTrue`, as seqeval does). */
function resolveScheme(
  fn: string,
  yTrue: readonly (readonly string[])[],
  options: EntityOptions,
): Scheme | undefined {
  if ((options.mode ?? "default") !== "strict" || options.scheme !== undefined) return options.scheme;
  return detectScheme(fn, "yTrue", yTrue, options.suffix ?? false);
}

/** Validates both corpora and options and returns the entities of each. */
export function extractPair(
  fn: string,
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: EntityOptions,
): { gold: CorpusEntity[]; predicted: CorpusEntity[] } {
  checkSentences(fn, "yTrue", yTrue);
  checkSentences(fn, "yPred", yPred);
  checkSameShape(fn, yTrue, yPred);
  checkEntityOptions(fn, options);
  const scheme = resolveScheme(fn, yTrue, options);
  return {
    gold: corpusEntities(fn, "yTrue", yTrue, options, scheme),
    predicted: corpusEntities(fn, "yPred", yPred, options, scheme),
  };
}

/** Per-type true positive, predicted and gold entity counts (seqeval's `extract_tp_actual_correct`). */
export function entityCounts(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: EntityOptions = {},
): EntityCounts {
  const { gold, predicted } = extractPair("entityCounts", yTrue, yPred, options);
  return countEntities(gold, predicted);
}

function countEntities(gold: readonly CorpusEntity[], predicted: readonly CorpusEntity[]): EntityCounts {
  const goldByType = new Map<string, Set<string>>();
  for (const entity of gold) {
    let set = goldByType.get(entity.type);
    if (set === undefined) {
      set = new Set();
      goldByType.set(entity.type, set);
    }
    set.add(entityKey(entity));
  }
  const predictedByType = new Map<string, Set<string>>();
  for (const entity of predicted) {
    let set = predictedByType.get(entity.type);
    if (set === undefined) {
      set = new Set();
      predictedByType.set(entity.type, set);
    }
    set.add(entityKey(entity));
  }
  const types = [...new Set([...goldByType.keys(), ...predictedByType.keys()])].sort(compareCodePoints);
  const truePositives: number[] = [];
  const predictedCounts: number[] = [];
  const goldCounts: number[] = [];
  for (const type of types) {
    const goldSet = goldByType.get(type) ?? new Set<string>();
    const predictedSet = predictedByType.get(type) ?? new Set<string>();
    let tp = 0;
    for (const key of predictedSet) if (goldSet.has(key)) tp++;
    truePositives.push(tp);
    predictedCounts.push(predictedSet.size);
    goldCounts.push(goldSet.size);
  }
  return { types, truePositives, predicted: predictedCounts, gold: goldCounts };
}

/** Precision, recall and F1 from one set of counts; 0/0 gives `zeroDivision` (F1 is 0 when p + r = 0). */
export function scoresFromCounts(
  truePositives: number,
  predicted: number,
  gold: number,
  zeroDivision: ZeroDivision = 0,
): Scores {
  const precision = predicted === 0 ? zeroDivision : truePositives / predicted;
  const recall = gold === 0 ? zeroDivision : truePositives / gold;
  const denominator = precision + recall;
  const f1 = (2 * precision * recall) / (denominator === 0 ? 1 : denominator);
  return { precision, recall, f1, support: gold };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function averageScores(
  counts: EntityCounts,
  rows: readonly Scores[],
  average: Average,
  zero: ZeroDivision,
): Scores {
  const support = sum(counts.gold);
  if (average === "micro") {
    return scoresFromCounts(sum(counts.truePositives), sum(counts.predicted), support, zero);
  }
  if (average === "macro") {
    const n = rows.length;
    return {
      precision: sum(rows.map((row) => row.precision)) / n,
      recall: sum(rows.map((row) => row.recall)) / n,
      f1: sum(rows.map((row) => row.f1)) / n,
      support,
    };
  }
  if (support === 0) {
    const noPredictions = sum(counts.predicted) === 0;
    return {
      precision: noPredictions ? zero : 0,
      recall: zero,
      f1: noPredictions ? zero : 0,
      support,
    };
  }
  const weighted = (pick: (row: Scores) => number): number =>
    sum(rows.map((row) => pick(row) * row.support)) / support;
  return {
    precision: weighted((row) => row.precision),
    recall: weighted((row) => row.recall),
    f1: weighted((row) => row.f1),
    support,
  };
}

function checkZeroDivision(fn: string, value: unknown): ZeroDivision {
  if (value === undefined) return 0;
  if (value !== 0 && value !== 1)
    throw new MetricsError(fn, "options.zeroDivision", "0 or 1", JSON.stringify(value));
  return value;
}

function checkAverage(fn: string, argument: string, value: unknown): Average {
  if (value !== "micro" && value !== "macro" && value !== "weighted") {
    throw new MetricsError(fn, argument, '"micro", "macro" or "weighted"', JSON.stringify(value));
  }
  return value;
}

/**
 * seqeval's `classification_report(..., output_dict=True)`: precision, recall, F1 and support per entity
 * type plus the micro, macro and weighted averages. A macro average over zero types is NaN, as in seqeval.
 *
 * Default mode is conlleval's lenient chunking; `mode: "strict"` scores only entities that are well formed
 * under `scheme`, detected from `yTrue` when left out, as seqeval 1.2.2's `classification_report` does
 * (it hands strict mode to `seqeval.metrics.v1.classification_report`, which detects the scheme). Note that
 * `f1Score`, `precisionScore` and `recallScore` detect the scheme too, where seqeval's `f1_score` & co.
 * silently score leniently. Entities match when type, start and end all agree.
 */
export function classificationReport(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: ReportOptions = {},
): ClassificationReport {
  const fn = "classificationReport";
  const zero = checkZeroDivision(fn, options.zeroDivision);
  const averages = (options.average ?? ["micro", "macro", "weighted"]).map((average, index) =>
    checkAverage(fn, `options.average[${index}]`, average),
  );
  const { gold, predicted } = extractPair(fn, yTrue, yPred, options);
  const counts = countEntities(gold, predicted);
  const report: Record<string, Scores> = {};
  const rows: Scores[] = [];
  counts.types.forEach((type, index) => {
    const row = scoresFromCounts(
      counts.truePositives[index]!,
      counts.predicted[index]!,
      counts.gold[index]!,
      zero,
    );
    rows.push(row);
    report[type] = row;
  });
  for (const average of averages) report[`${average} avg`] = averageScores(counts, rows, average, zero);
  return report;
}

function averaged(
  fn: string,
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: ScoreOptions & { readonly average?: Average },
): Scores {
  const zero = checkZeroDivision(fn, options.zeroDivision);
  const average = checkAverage(fn, "options.average", options.average ?? "micro");
  const { gold, predicted } = extractPair(fn, yTrue, yPred, options);
  const counts = countEntities(gold, predicted);
  const rows = counts.types.map((_, index) =>
    scoresFromCounts(counts.truePositives[index]!, counts.predicted[index]!, counts.gold[index]!, zero),
  );
  return averageScores(counts, rows, average, zero);
}

/** Options of `f1Score`, `precisionScore` and `recallScore`: `average` is `"micro"` by default, as in seqeval. */
export interface AveragedScoreOptions extends ScoreOptions {
  readonly average?: Average;
}

/**
 * Entity-level F1 (seqeval `f1_score`, micro-averaged by default): a span counts only if type, start and end
 * match.
 *
 * Divergence from seqeval 1.2.2: with `mode: "strict"` and no `scheme`, this function detects the scheme
 * from `yTrue` (as `classificationReport` and seqeval's `v1` functions do), whereas seqeval's top-level
 * `f1_score` silently falls back to lenient (default-mode) scoring. Pass `mode: "default"` for seqeval's
 * result, or name the scheme.
 */
export function f1Score(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: AveragedScoreOptions = {},
): number {
  return averaged("f1Score", yTrue, yPred, options).f1;
}

/**
 * Entity-level precision (seqeval `precision_score`). With `mode: "strict"` and no `scheme` the scheme is
 * detected from `yTrue`; seqeval 1.2.2's `precision_score` scores leniently there instead (see `f1Score`).
 */
export function precisionScore(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: AveragedScoreOptions = {},
): number {
  return averaged("precisionScore", yTrue, yPred, options).precision;
}

/**
 * Entity-level recall (seqeval `recall_score`). With `mode: "strict"` and no `scheme` the scheme is
 * detected from `yTrue`; seqeval 1.2.2's `recall_score` scores leniently there instead (see `f1Score`).
 */
export function recallScore(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: AveragedScoreOptions = {},
): number {
  return averaged("recallScore", yTrue, yPred, options).recall;
}
