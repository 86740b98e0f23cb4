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
export {
  type CausalLm,
  type CausalLmLoss,
  causalLmLabels,
  causalLmLoss,
  type DecoderInput,
  type DecoderOutput,
  type DecoderTensorName,
  decoderTensorNames,
  LayerStack,
  parametersOf,
  positionIds,
  siteSeed,
} from "./decoder.js";
export { NnError } from "./errors.js";
export {
  type Gpt2Activation,
  Gpt2Attention,
  Gpt2Block,
  type Gpt2Config,
  Gpt2LmHeadModel,
  Gpt2Mlp,
  Gpt2Model,
  type Gpt2Options,
  type Gpt2State,
  gpt2Config,
  gpt2TensorNames,
} from "./gpt2.js";
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
  LlamaAttention,
  type LlamaConfig,
  LlamaDecoderLayer,
  LlamaForCausalLm,
  LlamaModel,
  type LlamaOptions,
  type LlamaState,
  llamaConfig,
  llamaTensorNames,
} from "./llama.js";
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
export { RmsNorm } from "./rms-norm.js";
export {
  applyRotary,
  cos,
  type RotaryTables,
  rotaryFrequencies,
  rotaryTables,
  rotateHalf,
  sin,
} from "./rotary.js";
export {
  MAX_HEADER_BYTES,
  readSafetensors,
  type Safetensors,
  type SafetensorsArrayMap,
  type SafetensorsDType,
  type SafetensorsTensor,
  writeSafetensors,
} from "./safetensors.js";
export { SwiGlu, type SwiGluModules, silu } from "./swiglu.js";
