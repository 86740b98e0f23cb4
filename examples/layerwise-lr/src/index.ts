export {
  CONDITIONS,
  type Condition,
  conditionGroups,
  conditionSchedule,
  conditionSetup,
  type Layer,
} from "./conditions.js";
export {
  type CrfInput,
  classifierDropout,
  compileCrfTagger,
  crfAccuracy,
  crfTaggerParameters,
} from "./crf-tagger.js";
export { type Evaluation, ICELANDIC_TEXT, loadStudyData, type StudyData } from "./data.js";
export { StudyError } from "./errors.js";
export { accuracy, type EncodedEvaluation, familyOf, fineTune, loadTagger } from "./finetune.js";
export {
  type EncoderShape,
  FULL,
  HEADS,
  parseOptions,
  SHORT,
  type StudyOptions,
  type TaggingHeadKind,
  USAGE,
  wantsHelp,
} from "./options.js";
export {
  appendRecords,
  headOf,
  type PlannedRun,
  pending,
  plan,
  type RunRecord,
  readRecords,
} from "./plan.js";
export {
  bertInitialValues,
  ensurePretrained,
  maskedBatch,
  type PretrainingOptions,
  type PretrainingRecipe,
  specialIds,
} from "./pretrain.js";
export { type Report, report } from "./report.js";
export { runStudy, type StudyResult, settings } from "./study.js";
export {
  type EncodedSentence,
  encodeTagged,
  firstSubwords,
  scoreBatch,
  scorePaths,
  taggingBatch,
  taggingBatches,
  type WordEncoder,
  wordBatch,
  wordBatches,
  wordFeatures,
} from "./tagging.js";
