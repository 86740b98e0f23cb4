export { CrfHead, type CrfHeadOptions, FORBIDDEN_SCORE } from "./crf-head.js";
export { HeadsError } from "./errors.js";
export type { FloatArray, HeadDecoding, HeadLossInput, TaggingHead } from "./head.js";
export { joinLast } from "./join.js";
export { BiLstm, type BiLstmOptions, type LstmInput, type LstmOutput } from "./lstm.js";
export { ScalarMix, TokenScalarMix } from "./scalar-mix.js";
export {
  type LabelledSentence,
  SequenceTagger,
  type SequenceTaggerConfig,
  type SequenceTaggerOptions,
  type TaggerCompileOptions,
  type TaggerLearningRates,
  type TaggerPrediction,
} from "./sequence-tagger.js";
export { SoftmaxHead, type SoftmaxHeadOptions } from "./softmax-head.js";
export { WordVocabulary, type WordVocabularyJson } from "./vocabulary.js";
export {
  type CharEncoderKind,
  WordEncoder,
  type WordEncoderInput,
  type WordEncoderOptions,
} from "./word-encoder.js";
export {
  embeddingFromVectors,
  parseVectors,
  type ReadVectorsOptions,
  readVectors,
  type WordVectors,
} from "./word-vectors.js";
