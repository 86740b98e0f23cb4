export type {
  AlignLabelIdsOptions,
  AlignLabelsOptions,
  AlignStrategy,
  WordPredictionsOptions,
} from "./alignment.js";
export { alignLabels, wordPredictions } from "./alignment.js";
export type {
  BatchItem,
  BatchPlanOptions,
  IndexArrayMap,
  IndexDType,
  IndexTensor,
  PadBatchOptions,
  PaddedBatch,
} from "./batching.js";
export { padBatch, planBatches } from "./batching.js";
export type { CharBatch, CharEncodeOptions, CharVocabularyJson } from "./char-features.js";
export { CharVocabulary } from "./char-features.js";
export { TokenizeError } from "./errors.js";
export { seededRandom, shuffleInPlace } from "./random.js";
export type { EncodeWordsOptions, SubwordModel, WordEncoding } from "./tokenizer.js";
export { loadTokenizer, WordTokenizer } from "./tokenizer.js";
export type { EncodedWindow, WindowOptions } from "./windows.js";
export { encodeWindows, mergeWindowPredictions } from "./windows.js";
