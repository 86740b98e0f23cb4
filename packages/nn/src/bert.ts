import { ConfigReader } from "./decoder-config.js";
import type { HiddenActivation } from "./encoder.js";
import {
  type EncoderFamily,
  type EncoderHead,
  EncoderModel,
  type EncoderModelConfig,
} from "./encoder-model.js";
import { NnError } from "./errors.js";
import type { HfArchitecture, HfTensorMapping } from "./hf-checkpoint.js";
import type { ParameterDType } from "./parameters.js";

/** Options of the models an architecture builds from a config. */
export interface EncoderArchitectureOptions {
  readonly dtype?: ParameterDType;
  /** Dropout seed of the model (default 0). */
  readonly seed?: number;
  readonly gradientCheckpointing?: boolean;
}

/** An encoder model built from a Hugging Face config, with the label names and class it came as. */
export class HfEncoderModel extends EncoderModel {
  constructor(
    config: EncoderModelConfig,
    /** `id2label` in order (`LABEL_i` when the config has none of the right size). */
    readonly labelNames: readonly string[],
    options: EncoderArchitectureOptions = {},
  ) {
    super(config, options);
  }
}

const CLASS_PREFIX: Readonly<Record<EncoderFamily, string>> = {
  bert: "Bert",
  roberta: "Roberta",
  "xlm-roberta": "XLMRoberta",
  distilbert: "DistilBert",
};

const CLASS_SUFFIX: Readonly<Record<EncoderHead, string>> = {
  base: "Model",
  "masked-lm": "ForMaskedLM",
  "token-classification": "ForTokenClassification",
  "sequence-classification": "ForSequenceClassification",
};

/** The Hugging Face class name of a family and head (`BertForTokenClassification`). */
export const hfClassName = (family: EncoderFamily, head: EncoderHead): string =>
  `${CLASS_PREFIX[family]}${CLASS_SUFFIX[head]}`;

const ACTIVATIONS: readonly [HiddenActivation, ...HiddenActivation[]] = [
  "gelu",
  "gelu_new",
  "gelu_pytorch_tanh",
  "gelu_fast",
  "relu",
  "silu",
  "tanh",
];

/** The head `architectures[0]` names (the base model when absent); BERT's pre-training class loads as a masked LM. */
function headOf(fn: string, family: EncoderFamily, config: Readonly<Record<string, unknown>>): EncoderHead {
  const architectures = config.architectures;
  const name = Array.isArray(architectures) ? architectures[0] : undefined;
  if (name === undefined || name === null) return "base";
  if (family === "bert" && name === "BertForPreTraining") return "masked-lm";
  const heads = Object.keys(CLASS_SUFFIX) as EncoderHead[];
  const head = heads.find((candidate) => hfClassName(family, candidate) === name);
  if (head === undefined)
    throw new NnError(
      fn,
      "config.architectures[0]",
      `one of ${heads.map((candidate) => hfClassName(family, candidate)).join(", ")}`,
      JSON.stringify(name),
    );
  return head;
}

/** Label count and names: `num_labels`, else `id2label`'s size, else 2; names from `id2label` when it fits. */
function labelsOf(fn: string, config: Readonly<Record<string, unknown>>): readonly string[] {
  const id2label = config.id2label;
  const names =
    typeof id2label === "object" && id2label !== null && !Array.isArray(id2label)
      ? Object.entries(id2label as Record<string, unknown>)
          .sort(([a], [b]) => Number(a) - Number(b))
          .map(([, label]) => String(label))
      : [];
  const count = new ConfigReader(fn, config).integer("num_labels", names.length > 0 ? names.length : 2);
  return names.length === count ? names : Array.from({ length: count }, (_, index) => `LABEL_${index}`);
}

function padTokenId(fn: string, config: Readonly<Record<string, unknown>>, fallback: number): number {
  const value = config.pad_token_id ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new NnError(fn, "config.pad_token_id", "an integer >= 0", JSON.stringify(value));
  return value;
}

/** A BERT / RoBERTa / XLM-RoBERTa `config.json` as an {@link EncoderModelConfig} and its label names. */
function bertLikeConfig(
  family: Exclude<EncoderFamily, "distilbert">,
  config: Readonly<Record<string, unknown>>,
): [EncoderModelConfig, readonly string[]] {
  const fn = `${family}Config`;
  const read = new ConfigReader(fn, config);
  read.unsupported("position_embedding_type", "absolute");
  read.unsupported("is_decoder", false);
  read.unsupported("add_cross_attention", false);
  const roberta = family !== "bert";
  const hiddenDropout = read.number("hidden_dropout_prob", 0.1, 0, 0.999);
  const labels = labelsOf(fn, config);
  const typeVocab = config.type_vocab_size === 0 ? 0 : read.integer("type_vocab_size", 2);
  return [
    {
      family,
      head: headOf(fn, family, config),
      vocabSize: read.integer("vocab_size"),
      hidden: read.integer("hidden_size"),
      layers: read.integer("num_hidden_layers"),
      heads: read.integer("num_attention_heads"),
      intermediate: read.integer("intermediate_size"),
      activation: read.oneOf("hidden_act", ACTIVATIONS),
      maxPositions: read.integer("max_position_embeddings", 512),
      typeVocabSize: typeVocab,
      paddingPositions: roberta,
      padTokenId: padTokenId(fn, config, roberta ? 1 : 0),
      layerNormEpsilon: read.number("layer_norm_eps", 1e-12, Number.MIN_VALUE, 1),
      hiddenDropout,
      attentionDropout: read.number("attention_probs_dropout_prob", 0.1, 0, 0.999),
      classifierDropout: read.number("classifier_dropout", hiddenDropout, 0, 0.999),
      labels: labels.length,
      ...(roberta ? { headActivation: "gelu" as const } : {}),
    },
    labels,
  ];
}

/** A DistilBERT `config.json` as an {@link EncoderModelConfig} and its label names. */
function distilbertConfig(
  config: Readonly<Record<string, unknown>>,
): [EncoderModelConfig, readonly string[]] {
  const fn = "distilbertConfig";
  const read = new ConfigReader(fn, config);
  // Sinusoidal positions are frozen in HF; xlt would train them.
  read.unsupported("sinusoidal_pos_embds", false);
  const head = headOf(fn, "distilbert", config);
  const dropout = read.number("dropout", 0.1, 0, 0.999);
  const labels = labelsOf(fn, config);
  return [
    {
      family: "distilbert",
      head,
      vocabSize: read.integer("vocab_size"),
      hidden: read.integer("dim"),
      layers: read.integer("n_layers"),
      heads: read.integer("n_heads"),
      intermediate: read.integer("hidden_dim"),
      activation: read.oneOf("activation", ACTIVATIONS),
      maxPositions: read.integer("max_position_embeddings", 512),
      typeVocabSize: 0,
      padTokenId: padTokenId(fn, config, 0),
      layerNormEpsilon: 1e-12,
      hiddenDropout: dropout,
      attentionDropout: read.number("attention_dropout", 0.1, 0, 0.999),
      classifierDropout:
        head === "sequence-classification" ? read.number("seq_classif_dropout", 0.2, 0, 0.999) : dropout,
      labels: labels.length,
    },
    labels,
  ];
}

const linear = (path: string, name: string): HfTensorMapping[] => [
  { path: `${path}.weight`, name: `${name}.weight`, transpose: true },
  { path: `${path}.bias`, name: `${name}.bias` },
];
const norm = (path: string, name: string): HfTensorMapping[] => [
  { path: `${path}.weight`, name: `${name}.weight` },
  { path: `${path}.bias`, name: `${name}.bias` },
];

/** The Hugging Face state-dict names of an encoder model's parameters (prefixed as the head model class has them). */
function encoderMapping(model: EncoderModel): HfTensorMapping[] {
  const { family, head, layers } = model.config;
  const distil = family === "distilbert";
  const base = distil ? "distilbert" : family === "bert" ? "bert" : "roberta";
  const p = head === "base" ? "" : `${base}.`;
  const e = "encoder.embeddings";
  const out: HfTensorMapping[] = [
    { path: `${e}.word.weight`, name: `${p}embeddings.word_embeddings.weight` },
    { path: `${e}.position.weight`, name: `${p}embeddings.position_embeddings.weight` },
    ...(model.config.typeVocabSize
      ? [{ path: `${e}.tokenType.weight`, name: `${p}embeddings.token_type_embeddings.weight` }]
      : []),
    ...norm(`${e}.norm`, `${p}embeddings.LayerNorm`),
  ];
  for (let index = 0; index < layers; index += 1) {
    const l = `encoder.layers.layer${index}`;
    if (distil) {
      const h = `${p}transformer.layer.${index}`;
      out.push(
        ...linear(`${l}.attention.query`, `${h}.attention.q_lin`),
        ...linear(`${l}.attention.key`, `${h}.attention.k_lin`),
        ...linear(`${l}.attention.value`, `${h}.attention.v_lin`),
        ...linear(`${l}.attention.output`, `${h}.attention.out_lin`),
        ...norm(`${l}.attentionNorm`, `${h}.sa_layer_norm`),
        ...linear(`${l}.intermediate`, `${h}.ffn.lin1`),
        ...linear(`${l}.output`, `${h}.ffn.lin2`),
        ...norm(`${l}.outputNorm`, `${h}.output_layer_norm`),
      );
    } else {
      const h = `${p}encoder.layer.${index}`;
      out.push(
        ...linear(`${l}.attention.query`, `${h}.attention.self.query`),
        ...linear(`${l}.attention.key`, `${h}.attention.self.key`),
        ...linear(`${l}.attention.value`, `${h}.attention.self.value`),
        ...linear(`${l}.attention.output`, `${h}.attention.output.dense`),
        ...norm(`${l}.attentionNorm`, `${h}.attention.output.LayerNorm`),
        ...linear(`${l}.intermediate`, `${h}.intermediate.dense`),
        ...linear(`${l}.output`, `${h}.output.dense`),
        ...norm(`${l}.outputNorm`, `${h}.output.LayerNorm`),
      );
    }
  }
  return [...out, ...headMapping(model, p)];
}

function headMapping(model: EncoderModel, p: string): HfTensorMapping[] {
  const { family, head } = model.config;
  switch (head) {
    case "base":
      return family === "distilbert" ? [] : linear("head.dense", "pooler.dense");
    case "token-classification":
      return linear("head.classifier", "classifier");
    case "masked-lm": {
      const [dense, layerNorm, bias] =
        family === "bert"
          ? ["cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", "cls.predictions.bias"]
          : family === "distilbert"
            ? ["vocab_transform", "vocab_layer_norm", "vocab_projector.bias"]
            : ["lm_head.dense", "lm_head.layer_norm", "lm_head.bias"];
      return [
        ...linear("head.dense", dense),
        ...norm("head.norm", layerNorm),
        { path: "head.bias", name: bias },
      ];
    }
    case "sequence-classification": {
      const [dense, classifier] =
        family === "bert"
          ? [`${p}pooler.dense`, "classifier"]
          : family === "distilbert"
            ? ["pre_classifier", "classifier"]
            : ["classifier.dense", "classifier.out_proj"];
      return [...linear("head.dense", dense), ...linear("head.classifier", classifier)];
    }
  }
}

/** Keys tied to a parameter: the masked-LM decoder's weight (the word embeddings) and, for BERT and RoBERTa, its bias. */
function encoderTied(model: EncoderModel): HfTensorMapping[] {
  const { family, head } = model.config;
  if (head !== "masked-lm") return [];
  const word = "encoder.embeddings.word.weight";
  switch (family) {
    case "bert":
      return [
        { path: word, name: "cls.predictions.decoder.weight" },
        { path: "head.bias", name: "cls.predictions.decoder.bias" },
      ];
    case "roberta":
    case "xlm-roberta":
      return [
        { path: word, name: "lm_head.decoder.weight" },
        { path: "head.bias", name: "lm_head.decoder.bias" },
      ];
    case "distilbert":
      return [{ path: word, name: "vocab_projector.weight" }];
  }
}

/** Buffers, and the pooler that heads without one ignore (as HF's `_keys_to_ignore_on_load_unexpected`). */
function encoderIgnored(model: EncoderModel): RegExp[] {
  const { family, head } = model.config;
  const buffers = [/(^|\.)embeddings\.position_ids$/, /(^|\.)embeddings\.token_type_ids$/];
  const pooled = head === "base" || (head === "sequence-classification" && family === "bert");
  return family === "distilbert" || pooled ? buffers : [...buffers, /(^|\.)pooler\./];
}

function labelConfig(model: HfEncoderModel): Record<string, unknown> {
  const { head } = model.config;
  if (head !== "token-classification" && head !== "sequence-classification") return {};
  return {
    id2label: Object.fromEntries(model.labelNames.map((label, index) => [String(index), label])),
    label2id: Object.fromEntries(model.labelNames.map((label, index) => [label, index])),
  };
}

function bertLikeToConfig(model: HfEncoderModel): Record<string, unknown> {
  const c = model.config;
  return {
    model_type: c.family,
    architectures: [hfClassName(c.family, c.head)],
    vocab_size: c.vocabSize,
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.intermediate,
    hidden_act: c.activation ?? "gelu",
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize ?? 0,
    layer_norm_eps: c.layerNormEpsilon ?? 1e-12,
    hidden_dropout_prob: c.hiddenDropout ?? 0.1,
    attention_probs_dropout_prob: c.attentionDropout ?? 0.1,
    pad_token_id: c.padTokenId ?? 0,
    ...labelConfig(model),
  };
}

function distilbertToConfig(model: HfEncoderModel): Record<string, unknown> {
  const c = model.config;
  return {
    model_type: "distilbert",
    architectures: [hfClassName("distilbert", c.head)],
    vocab_size: c.vocabSize,
    dim: c.hidden,
    n_layers: c.layers,
    n_heads: c.heads,
    hidden_dim: c.intermediate,
    activation: c.activation ?? "gelu",
    max_position_embeddings: c.maxPositions,
    dropout: c.hiddenDropout ?? 0.1,
    attention_dropout: c.attentionDropout ?? 0.1,
    pad_token_id: c.padTokenId ?? 0,
    ...(c.head === "sequence-classification" ? { seq_classif_dropout: c.classifierDropout ?? 0.2 } : {}),
    ...labelConfig(model),
  };
}

/** The Hugging Face architecture of one encoder family, building models with `options`. */
export function encoderArchitecture(
  family: EncoderFamily,
  options: EncoderArchitectureOptions = {},
): HfArchitecture<HfEncoderModel> {
  return {
    modelTypes: [family],
    prefix: family === "distilbert" ? "distilbert" : family === "bert" ? "bert" : "roberta",
    fromConfig(config) {
      const [modelConfig, labels] =
        family === "distilbert" ? distilbertConfig(config) : bertLikeConfig(family, config);
      return new HfEncoderModel(modelConfig, labels, options);
    },
    mapping: encoderMapping,
    toConfig: (model) => (family === "distilbert" ? distilbertToConfig(model) : bertLikeToConfig(model)),
    tied: encoderTied,
    ignored: encoderIgnored,
  };
}

/** BERT (`model_type: "bert"`): `BertModel`, `BertForMaskedLM` (and `BertForPreTraining`'s MLM part), `BertForTokenClassification`, `BertForSequenceClassification`. */
export const BERT = encoderArchitecture("bert");
/** RoBERTa (`model_type: "roberta"`), the same four classes. */
export const ROBERTA = encoderArchitecture("roberta");
/** XLM-RoBERTa (`model_type: "xlm-roberta"`), the same four classes. */
export const XLM_ROBERTA = encoderArchitecture("xlm-roberta");
/** DistilBERT (`model_type: "distilbert"`), the same four classes. */
export const DISTILBERT = encoderArchitecture("distilbert");
