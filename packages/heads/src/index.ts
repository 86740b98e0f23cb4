export { CrfHead, type CrfHeadOptions, FORBIDDEN_SCORE } from "./crf-head.js";
export { HeadsError } from "./errors.js";
export type { FloatArray, HeadDecoding, HeadLossInput, TaggingHead } from "./head.js";
export { BiLstm, type BiLstmOptions, type LstmInput, type LstmOutput } from "./lstm.js";
export { ScalarMix, TokenScalarMix } from "./scalar-mix.js";
export { SoftmaxHead, type SoftmaxHeadOptions } from "./softmax-head.js";
