export {
  type AdapterActivation,
  type AdapterBase,
  type AdapterConfig,
  applyBottleneckAdapters,
  BottleneckAdapter,
} from "./adapters.js";
export {
  type AdapterInit,
  type AdapterNonLinearity,
  Bottleneck,
  type BottleneckOptions,
} from "./bottleneck.js";
export {
  type AdapterArrangement,
  AdapterEncoderLayer,
  type AdapterEncoderLayerModules,
  type AdapterLocation,
  type AdapterSite,
  AdapterStack,
  applyEncoderAdapters,
  DOUBLE_SEQ_BN,
  type EncoderAdapterConfig,
  LayerAdapter,
  SEQ_BN,
} from "./encoder-adapters.js";
export { PeftError } from "./errors.js";
export {
  type HierarchicalLoraOptions,
  type HierarchyAdapters,
  type HierarchyStep,
  type HierarchyTrainer,
  hierarchicalModel,
  type LanguageNode,
  languagesUnder,
  parseLanguageTree,
  pathTo,
  trainHierarchicalLora,
} from "./hierarchical.js";
export {
  applyInvertibleAdapter,
  type InvertibleAdapterConfig,
  InvertibleAdapterModel,
  InvertibleEmbeddings,
  NiceCouplingBlock,
} from "./invertible-adapters.js";
export {
  applyLora,
  type LoraBias,
  type LoraConfig,
  loraLayers,
  loraShape,
  type ResolvedLoraConfig,
  resolveLoraConfig,
} from "./lora.js";
export { type LoraBase, type LoraInit, type LoraLayerOptions, LoraLinear } from "./lora-linear.js";
export { mergeAndUnload, mergeLora, unmergeLora, type ValueMap } from "./merge.js";
export {
  type AnyModule,
  type Composite,
  copyModule,
  isComposite,
  mapModules,
  mapParameters,
  namedModules,
  setTrainable,
} from "./modules.js";
export {
  DOUBLE_QUANT_BLOCK_SIZE,
  type DoubleQuantized,
  dequantizeNf4,
  dynamicMap,
  NF4_BLOCK_SIZE,
  NF4_CODE,
  type Nf4Options,
  type Nf4Tensor,
  nf4Absmax,
  nf4Bytes,
  nf4Codes,
  quantizeBlockwise,
  quantizeNf4,
} from "./nf4.js";
export { dequantizeInGraph } from "./nf4-graph.js";
export { Nf4Linear } from "./nf4-linear.js";
export { type ModuleNaming, matchesTarget, patternKey, type TargetModules } from "./patterns.js";
export {
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  loadPeftAdapter,
  moduleNamingFrom,
  type PeftAdapterFiles,
  type PeftConfigRead,
  type PeftSaveOptions,
  type PeftTaskType,
  peftConfigJson,
  presentModulesToSave,
  readPeftConfig,
  readPeftWeights,
  savePeftAdapter,
  toPeftAdapter,
} from "./peft-format.js";
export {
  type AnyPromptTunedModel,
  loadPromptTuningAdapter,
  PROMPT_EMBEDDINGS_KEY,
  type PromptTuningConfigRead,
  type PromptTuningSaveOptions,
  promptTuningConfigJson,
  readPromptTuningConfig,
  readPromptTuningWeights,
  savePromptTuningAdapter,
  toPromptTuningAdapter,
} from "./prompt-format.js";
export {
  applyPromptTuning,
  PROMPT_ENCODER,
  type PrefixInput,
  PromptEmbedding,
  PromptTunedModel,
  type PromptTuningConfig,
  type PromptTuningInit,
  type PromptTuningOptions,
  promptInitIds,
  WORD_EMBEDDINGS,
  wordEmbeddingsOf,
} from "./prompt-tuning.js";
export {
  applyQlora,
  type FrozenMemory,
  frozenMemory,
  nf4Layers,
  type QloraConfig,
  type QuantizeOptions,
  quantizeLinears,
} from "./qlora.js";
export {
  applyBitFit,
  applyEmbeddingOnly,
  type BitFitOptions,
  type EmbeddingOnlyOptions,
} from "./selective.js";
export { type ParameterKind, type TrainableReport, trainableParameters } from "./trainable.js";
