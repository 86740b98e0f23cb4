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
export { ARCHITECTURES } from "./architectures.js";
export {
  type AttentionOptions,
  MASKED_SCORE,
  mergeHeads,
  positionsAlong,
  scaledDotProductAttention,
  splitHeads,
} from "./attention.js";
export {
  BERT,
  DISTILBERT,
  type EncoderArchitectureOptions,
  encoderArchitecture,
  HfEncoderModel,
  hfClassName,
  ROBERTA,
  XLM_ROBERTA,
} from "./bert.js";
export {
  type CausalLm,
  type CausalLmLoss,
  causalLmLabels,
  causalLmLoss,
  type DecoderInput,
  type DecoderOutput,
  type DecoderSequence,
  decoderSequence,
  decoderTensorNames,
  LayerStack,
  parametersOf,
  positionIds,
  siteSeed,
} from "./decoder.js";
export {
  type EncoderConfig,
  EncoderEmbeddings,
  type EncoderInput,
  EncoderLayer,
  type EncoderOptions,
  type EncoderOutput,
  EncoderSelfAttention,
  type EncoderState,
  encoderLayerGroups,
  HIDDEN_ACTIVATIONS,
  type HiddenActivation,
  hiddenActivation,
  TransformerEncoder,
} from "./encoder.js";
export {
  type EncoderFamily,
  type EncoderHead,
  EncoderModel,
  type EncoderModelConfig,
  type EncoderModelOutput,
  type HeadInput,
  MaskedLmHead,
  Pooler,
  SequenceClassificationHead,
  TokenClassificationHead,
} from "./encoder-model.js";
export { preciseErf, preciseGelu } from "./erf.js";
export { NnError } from "./errors.js";
export {
  bfloat16Bits,
  bfloat16Value,
  type FloatDType,
  float16Bits,
  float16Value,
  fromFloats,
  isFloatDType,
  toFloats,
} from "./float-formats.js";
export {
  GPT2,
  type Gpt2Activation,
  Gpt2Attention,
  Gpt2Block,
  type Gpt2Config,
  Gpt2LmHeadModel,
  Gpt2Mlp,
  Gpt2Model,
  type Gpt2Options,
  type Gpt2State,
  gpt2Architecture,
  gpt2Config,
  gpt2TensorNames,
} from "./gpt2.js";
export {
  type HfArchitecture,
  HfCheckpointError,
  type HfCheckpointProblem,
  type HfModel,
  type HfTensorMapping,
  readCheckpointTensors,
  readJsonObject,
  WEIGHTS_INDEX_NAME,
  WEIGHTS_NAME,
  writeCheckpointTensors,
} from "./hf-checkpoint.js";
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
  LLAMA,
  LlamaAttention,
  type LlamaConfig,
  LlamaDecoderLayer,
  LlamaForCausalLm,
  LlamaModel,
  type LlamaOptions,
  type LlamaState,
  llamaArchitecture,
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
export { prefixLabels } from "./prefix.js";
export {
  architectureFor,
  type FromPretrainedOptions,
  fromPretrained,
  type HfCheckpoint,
  type LoadedCheckpoint,
  type SavePretrainedOptions,
  savePretrained,
} from "./pretrained.js";
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
