export {
  accuracyScore,
  type Label,
  type TokenAccuracy,
  type TokenAccuracyOptions,
  tokenAccuracy,
} from "./accuracy.js";
export { type CorpusEntity, type Entity, type EntityOptions, getEntities, type Mode } from "./entities.js";
export { MetricsError } from "./errors.js";
export { maskedPerplexity, perplexity } from "./perplexity.js";
export {
  type MaskedCopy,
  type MaskedCopyOptions,
  type MaskedScorer,
  maskedCopyBatches,
  type PseudoPerplexityResult,
  type PseudoPerplexitySentence,
  pseudoPerplexity,
  pseudoPerplexityFromLogProbs,
} from "./pseudo-perplexity.js";
export {
  type Average,
  type AveragedScoreOptions,
  type ClassificationReport,
  classificationReport,
  type EntityCounts,
  entityCounts,
  f1Score,
  precisionScore,
  type ReportOptions,
  recallScore,
  type ScoreOptions,
  type Scores,
  scoresFromCounts,
  type ZeroDivision,
} from "./report.js";
export { autoDetectScheme, SCHEMES, type Scheme } from "./schemes.js";
export { type SentenceStatistics, sentenceStatistics } from "./sentence-statistics.js";
