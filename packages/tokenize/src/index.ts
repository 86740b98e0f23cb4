export type {
  AlignLabelIdsOptions,
  AlignLabelsOptions,
  AlignStrategy,
  WordPredictionsOptions,
} from "./alignment.js";
export { alignLabels, wordPredictions } from "./alignment.js";
export { TokenizeError } from "./errors.js";
export type { EncodeWordsOptions, SubwordModel, WordEncoding } from "./tokenizer.js";
export { loadTokenizer, WordTokenizer } from "./tokenizer.js";
