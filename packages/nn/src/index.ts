export {
  type AlignmentLossOptions,
  type AverageLinkageOptions,
  alignmentLoss,
  averageLinkageAlignment,
  type HiddenAlignmentKind,
  type IdenticalStringOptions,
  identicalStringAlignment,
  identicalStringPairs,
  meanVarianceAlignment,
} from "./alignment-losses.js";
export {
  type AttentionOptions,
  MASKED_SCORE,
  mergeHeads,
  positionsAlong,
  scaledDotProductAttention,
  splitHeads,
} from "./attention.js";
export { NnError } from "./errors.js";
export {
  constant,
  fanInUniform,
  fans,
  type Initializer,
  normal,
  ones,
  uniform,
  xavierUniform,
  zeros,
} from "./init.js";
export {
  type Activation,
  Dropout,
  Embedding,
  type ForwardContext,
  LayerNorm,
  Linear,
  type LinearOptions,
  Mlp,
  type MlpOptions,
  type Module,
} from "./layers.js";
export {
  bind,
  flatten,
  initialize,
  leaf,
  Parameter,
  type ParameterDType,
  type ParameterOptions,
  type ParameterTree,
  subtree,
  type TensorTree,
} from "./parameters.js";
export { deriveSeed, Random } from "./random.js";
export {
  MAX_HEADER_BYTES,
  readSafetensors,
  type Safetensors,
  type SafetensorsArrayMap,
  type SafetensorsDType,
  type SafetensorsTensor,
  writeSafetensors,
} from "./safetensors.js";
