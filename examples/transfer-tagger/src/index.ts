export {
  type CliResult,
  type ExperimentConfig,
  HELP,
  type ModelConfig,
  type PseudoConfig,
  parseCli,
  RECIPES,
  type Recipe,
} from "./cli.js";
export { TransferError } from "./errors.js";
export { type ExperimentResult, runExperiment } from "./experiment.js";
export {
  MIN_WORD_COUNT,
  newTagger,
  type SharedVocabularies,
  scoreFromTotals,
  sentenceTotals,
  sharedVocabularies,
  taskScore,
} from "./model.js";
export {
  conditionName,
  hashSettings,
  type Plan,
  planRuns,
  type RunSpec,
  runKey,
  runSettings,
  type SkippedRun,
} from "./plan.js";
export { type SweepPoint, sweepPoints, sweepSvg } from "./plot.js";
export { BarProgress, LineProgress, type Progress, ReportingSession, SILENT } from "./progress.js";
export { labelCandidates, meanTokenEntropy, PseudoLabelRounds } from "./pseudo.js";
export {
  BOOTSTRAP_RESAMPLES,
  buildReport,
  type PairedComparison,
  pairedComparisons,
  type Report,
} from "./report.js";
export { appendRun, finishedRuns, type ReadRuns, type RunRecord, readRuns } from "./results.js";
export {
  isTarget,
  loadSourcePool,
  loadTargetSplits,
  type RunData,
  runData,
  type SourcePool,
  SPLIT_SEED,
  sourceSample,
  TARGETS,
  TASKS,
  type TargetName,
  type TargetSplits,
  type TaskSpec,
  tokenizeText,
  type UnlabelledSentence,
} from "./tasks.js";
export {
  compileTagger,
  evaluateOn,
  NER_TIE_BREAK,
  type Phase,
  type PhaseResult,
  type TrainingSettings,
  trainPhase,
} from "./train.js";
