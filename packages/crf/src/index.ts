export { CrfError } from "./errors.js";
export {
  type CrfGradients,
  type CrfJson,
  type CrfParameters,
  type CrfState,
  type DecodeOptions,
  type DecodeResult,
  LinearChainCrf,
  type LinearChainCrfOptions,
  type NllOptions,
  type NllResult,
  type Reduction,
  type SequenceOptions,
} from "./linear-chain-crf.js";
export type { ParameterInput } from "./parameters.js";
export { allowedTransitions, type TagScheme, type TransitionConstraints } from "./schemes.js";
export type { EmissionsInput, Float64Tensor, TagsInput, TensorLike } from "./tensor.js";
export type { ScoredPath } from "./viterbi.js";
