export {
  type DataOptions,
  type HqlData,
  LANGUAGES,
  type Language,
  type LanguageData,
  loadHqlData,
} from "./data.js";
export { HqlError } from "./errors.js";
export {
  BASELINE,
  type EncodedLanguage,
  type LanguageScore,
  METHODS,
  type Method,
  type MethodContext,
  runMethod,
} from "./methods.js";
export { FULL, type HqlOptions, parseOptions, SHORT, USAGE, wantsHelp } from "./options.js";
export { appendRecords, type PlannedRun, pending, plan, type RunRecord, readRecords } from "./plan.js";
export { type Report, report } from "./report.js";
export { runStudy, type StudyResult } from "./study.js";
export { compileTagger, LORA_TARGETS, loadBase, loraConfig, trainEpochs } from "./train.js";
export { levelsOf, loadTrees, pruneTree, type StudyTrees } from "./trees.js";
