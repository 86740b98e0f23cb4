export {
  type CompareData,
  loadCompareData,
  loadPretrainingText,
  PRETRAIN_LANGUAGES,
  type Text,
} from "./data.js";
export { CompareError } from "./errors.js";
export {
  EVALUATION_MASKING,
  encodeText,
  evaluationBatches,
  heldOutPerplexity,
  heldOutPseudoPerplexity,
  type Logits,
  predictionBatch,
  type SpecialIds,
  specialTokenIds,
  targetNll,
} from "./lm.js";
export { median, PeakGrowth, resetPeak, residentSet, TimedSession } from "./measure.js";
export {
  ADAPTER,
  applyMethod,
  LORA,
  METHOD_SETTINGS,
  METHODS,
  type Method,
  type MethodSetting,
  parseMethods,
  TASKS,
  type Task,
} from "./methods.js";
export {
  type CompareOptions,
  FAROESE_TRAIN_SENTENCES,
  FULL,
  parseOptions,
  SHORT,
  USAGE,
  wantsHelp,
} from "./options.js";
export { type JobPayload, parsePayload } from "./payload.js";
export {
  appendRecord,
  checkJob,
  checkRecord,
  type Job,
  pending,
  plan,
  type RunMethod,
  type RunRecord,
  readRecords,
} from "./plan.js";
export { type Report, report } from "./report.js";
export {
  compileTask,
  type EncodedData,
  encodeData,
  PSEUDO_PERPLEXITY_SENTENCES,
  type RunInspection,
  type RunSettings,
  runJob,
} from "./run.js";
export {
  type CompareResult,
  childProcessRunner,
  inProcessRunner,
  pretrainingOptions,
  type Runner,
  runStudy,
  studySettings,
} from "./study.js";
