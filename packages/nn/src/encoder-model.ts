import { add, matmul, relu, slice, squeeze, type Tensor, tanh, transposeLast } from "@xlt/graph";
import { parametersOf, siteSeed } from "./decoder.js";
import {
  type EncoderConfig,
  type EncoderInput,
  type EncoderOptions,
  type EncoderOutput,
  encoderLayerGroups,
  type HiddenActivation,
  hiddenActivation,
  TransformerEncoder,
} from "./encoder.js";
import { NnError } from "./errors.js";
import { zeros } from "./init.js";
import { Dropout, type ForwardContext, LayerNorm, Linear, type Module } from "./layers.js";
import {
  leaf,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  subtree,
  type TensorTree,
} from "./parameters.js";

/** The head on top of the encoder: none but BERT's/RoBERTa's pooler (`base`), masked LM, or a classifier. */
export type EncoderHead = "base" | "masked-lm" | "token-classification" | "sequence-classification";

/** The encoder families, which differ in positions, token types and head layouts. */
export type EncoderFamily = "bert" | "roberta" | "xlm-roberta" | "distilbert";

export interface EncoderModelConfig extends EncoderConfig {
  readonly family: EncoderFamily;
  readonly head: EncoderHead;
  /** Classes of a classification head. */
  readonly labels?: number;
  /** Dropout in a classification head (default `hiddenDropout`). */
  readonly classifierDropout?: number;
  /** The masked-LM transform's activation (default `activation`; RoBERTa's is exact gelu). */
  readonly headActivation?: HiddenActivation;
}

/** What a head reads: the last hidden states and the word-embedding table (for a tied decoder). */
export interface HeadInput {
  /** `[batch, steps, hidden]`. */
  readonly hidden: Tensor;
  /** `[vocab, hidden]`. */
  readonly wordEmbeddings: Tensor;
}

/** `[batch, steps, hidden]` → the first token's `[batch, hidden]`. */
const firstToken = (hidden: Tensor): Tensor => squeeze(slice(hidden, 1, 0, 1), [1]);

/** BERT's pooler: `tanh(dense(h[:, 0]))` → `[batch, hidden]`. */
export class Pooler implements Module<HeadInput> {
  readonly modules: { dense: Module };

  constructor(hidden: number, dtype: ParameterDType) {
    this.modules = { dense: new Linear(hidden, hidden, { dtype }) };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden }: HeadInput, context: ForwardContext): Tensor {
    return tanh(this.modules.dense.forward(subtree(params, "dense"), firstToken(hidden), context));
  }
}

/**
 * The masked-LM head: `dense`, activation, LayerNorm, then the decoder tied to the word embeddings
 * plus an output `bias` → logits `[batch, steps, vocab]`.
 */
export class MaskedLmHead implements Module<HeadInput> {
  readonly modules: { dense: Module; norm: Module };
  readonly bias: Parameter;
  private readonly activation: (x: Tensor) => Tensor;

  constructor(config: EncoderModelConfig, dtype: ParameterDType) {
    this.modules = {
      dense: new Linear(config.hidden, config.hidden, { dtype }),
      norm: new LayerNorm(config.hidden, config.layerNormEpsilon ?? 1e-12, { dtype }),
    };
    this.bias = new Parameter([config.vocabSize], { init: zeros, decay: false, dtype });
    this.activation = hiddenActivation(
      "MaskedLmHead",
      "headActivation",
      config.headActivation ?? config.activation ?? "gelu",
    );
  }

  get parameters(): ParameterTree {
    return { ...parametersOf(this.modules), bias: this.bias };
  }

  forward(params: TensorTree, { hidden, wordEmbeddings }: HeadInput, context: ForwardContext): Tensor {
    const { dense, norm } = this.modules;
    const h = norm.forward(
      subtree(params, "norm"),
      this.activation(dense.forward(subtree(params, "dense"), hidden, context)),
      context,
    );
    return add(matmul(h, transposeLast(wordEmbeddings)), leaf(params, "bias")); // shape: [batch, steps, vocab]
  }
}

/** Dropout and a linear classifier on every token → `[batch, steps, labels]`. */
export class TokenClassificationHead implements Module<HeadInput> {
  readonly modules: { classifier: Module };
  private readonly dropout: Dropout;

  constructor(hidden: number, labels: number, dropout: number, seed: number, dtype: ParameterDType) {
    this.modules = { classifier: new Linear(hidden, labels, { dtype }) };
    this.dropout = new Dropout(dropout, siteSeed(seed, "dropout"));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden }: HeadInput, context: ForwardContext): Tensor {
    const dropped = this.dropout.forward({}, hidden, context);
    return this.modules.classifier.forward(subtree(params, "classifier"), dropped, context);
  }
}

/**
 * A classifier on the first token → `[batch, labels]`, in each family's layout: BERT `tanh(dense)`
 * (the pooler), dropout, classifier; RoBERTa dropout, `dense`, tanh, dropout, classifier
 * (`out_proj`); DistilBERT `dense` (`pre_classifier`), ReLU, dropout, classifier.
 */
export class SequenceClassificationHead implements Module<HeadInput> {
  readonly modules: { dense: Module; classifier: Module };
  private readonly first: Dropout;
  private readonly second: Dropout;

  constructor(
    readonly family: EncoderFamily,
    hidden: number,
    labels: number,
    dropout: number,
    seed: number,
    dtype: ParameterDType,
  ) {
    this.modules = {
      dense: new Linear(hidden, hidden, { dtype }),
      classifier: new Linear(hidden, labels, { dtype }),
    };
    this.first = new Dropout(dropout, siteSeed(seed, "dropout0"));
    this.second = new Dropout(dropout, siteSeed(seed, "dropout1"));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden }: HeadInput, context: ForwardContext): Tensor {
    const { dense, classifier } = this.modules;
    const x = firstToken(hidden); // shape: [batch, hidden]
    const project = (h: Tensor) => dense.forward(subtree(params, "dense"), h, context);
    const classify = (h: Tensor) => classifier.forward(subtree(params, "classifier"), h, context);
    switch (this.family) {
      case "bert":
        return classify(this.second.forward({}, tanh(project(x)), context));
      case "roberta":
      case "xlm-roberta":
        return classify(this.second.forward({}, tanh(project(this.first.forward({}, x, context))), context));
      case "distilbert":
        return classify(this.second.forward({}, relu(project(x)), context));
    }
  }
}

/** An encoder's outputs with its head's: `logits` of a masked-LM or classification head, `pooled` of the base model's pooler. */
export interface EncoderModelOutput extends EncoderOutput {
  readonly logits?: Tensor;
  readonly pooled?: Tensor;
}

const HEADS: readonly EncoderHead[] = [
  "base",
  "masked-lm",
  "token-classification",
  "sequence-classification",
];
const FAMILIES: readonly EncoderFamily[] = ["bert", "roberta", "xlm-roberta", "distilbert"];

/**
 * A transformer encoder with a head: parameters at `encoder.embeddings.…`, `encoder.layers.layerN.…`
 * and `head.…` (see {@link EncoderModel.layerGroups} for layer-wise learning rates).
 */
export class EncoderModel implements Module<EncoderInput, EncoderModelOutput> {
  readonly modules: { encoder: TransformerEncoder; head?: Module<HeadInput> };

  constructor(
    readonly config: EncoderModelConfig,
    options: EncoderOptions = {},
  ) {
    const fn = "EncoderModel";
    if (!FAMILIES.includes(config.family))
      throw new NnError(fn, "config.family", `one of ${FAMILIES.join(", ")}`, JSON.stringify(config.family));
    if (!HEADS.includes(config.head))
      throw new NnError(fn, "config.head", `one of ${HEADS.join(", ")}`, JSON.stringify(config.head));
    const classifying = config.head === "token-classification" || config.head === "sequence-classification";
    const labels = config.labels ?? 2;
    if (classifying && !(Number.isInteger(labels) && labels >= 1))
      throw new NnError(fn, "config.labels", "a positive integer", String(labels));
    const dropout = config.classifierDropout ?? config.hiddenDropout ?? 0.1;
    if (!(dropout >= 0 && dropout < 1))
      throw new NnError(fn, "config.classifierDropout", "a number in [0, 1)", String(dropout));
    const dtype = options.dtype ?? "float32";
    const seed = siteSeed(options.seed ?? 0, "head");
    const encoder = new TransformerEncoder(config, options);
    const head = ((): Module<HeadInput> | undefined => {
      switch (config.head) {
        case "base":
          return config.family === "distilbert" ? undefined : new Pooler(config.hidden, dtype);
        case "masked-lm":
          return new MaskedLmHead(config, dtype);
        case "token-classification":
          return new TokenClassificationHead(config.hidden, labels, dropout, seed, dtype);
        case "sequence-classification":
          return new SequenceClassificationHead(config.family, config.hidden, labels, dropout, seed, dtype);
      }
    })();
    this.modules = head ? { encoder, head } : { encoder };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, input: EncoderInput, context: ForwardContext): EncoderModelOutput {
    const { encoder, head } = this.modules;
    const encoderParams = subtree(params, "encoder");
    const out = encoder.forward(encoderParams, input, context);
    if (!head) return out;
    const wordEmbeddings = leaf(subtree(subtree(encoderParams, "embeddings"), "word"), "weight");
    const result = head.forward(subtree(params, "head"), { hidden: out.hidden, wordEmbeddings }, context);
    return this.config.head === "base" ? { ...out, pooled: result } : { ...out, logits: result };
  }

  /**
   * Groups for layer-wise learning rates, bottom to top: `embeddings`, `layer0 … layer{L-1}`, `head`
   * (`layerwiseGroups` of `@xlt/runtime` gives the top the full rate). A model without a head
   * (DistilBERT's base model) has no `head` group.
   */
  layerGroups(): { readonly name: string; readonly match: RegExp }[] {
    const groups = encoderLayerGroups(this.config.layers);
    return this.modules.head ? groups : groups.slice(0, -1);
  }
}
