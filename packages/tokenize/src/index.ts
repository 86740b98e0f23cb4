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
export type {
  LanguageBatch,
  LanguageBatchOptions,
  LanguageEpoch,
} from "./language-batches.js";
export { languageBatches } from "./language-batches.js";
export type { CausalLmExample, CausalLmMode, CausalLmOptions } from "./lm-batches.js";
export { causalLmExamples } from "./lm-batches.js";
export type { MaskableSequence, MaskedSequence, MaskTokensOptions } from "./lm-masking.js";
export { maskTokens } from "./lm-masking.js";
export type { LearnedMerge, LearnMergesOptions, SymbolSequence } from "./merges.js";
export { learnMerges } from "./merges.js";
export { seededRandom, shuffleInPlace } from "./random.js";
export type { EncodeWordsOptions, SubwordModel, WordEncoding } from "./tokenizer.js";
export { loadTokenizer, WordTokenizer } from "./tokenizer.js";
export type { TrainableModel, TrainTokenizerOptions } from "./training.js";
export { byteLevelAlphabet, trainTokenizer } from "./training.js";
export type { UnigramOptions } from "./unigram-tokenizer.js";
export type { AddedPiece, ExtendVocabularyOptions, VocabularyResult } from "./vocabulary.js";
export { extendVocabulary } from "./vocabulary.js";
export type { EncodedWindow, WindowOptions } from "./windows.js";
export { encodeWindows, mergeWindowPredictions } from "./windows.js";
