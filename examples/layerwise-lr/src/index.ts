export {
  CONDITIONS,
  type Condition,
  conditionGroups,
  conditionSchedule,
  conditionSetup,
  type Layer,
} from "./conditions.js";
export { type Evaluation, ICELANDIC_TEXT, loadStudyData, type StudyData } from "./data.js";
export { StudyError } from "./errors.js";
export { accuracy, type EncodedEvaluation, familyOf, fineTune } from "./finetune.js";
export {
  type EncoderShape,
  FULL,
  parseOptions,
  SHORT,
  type StudyOptions,
  USAGE,
  wantsHelp,
} from "./options.js";
export { appendRecords, type PlannedRun, pending, plan, type RunRecord, readRecords } from "./plan.js";
export {
  bertInitialValues,
  ensurePretrained,
  maskedBatch,
  type PretrainingRecipe,
  specialIds,
} from "./pretrain.js";
export { type Report, report } from "./report.js";
export { runStudy, type StudyResult } from "./study.js";
export {
  type EncodedSentence,
  encodeTagged,
  scoreBatch,
  taggingBatch,
  taggingBatches,
  type WordEncoder,
} from "./tagging.js";
