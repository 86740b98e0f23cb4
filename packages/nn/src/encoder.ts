import {
  add,
  cast,
  checkpoint,
  cumsum,
  equal,
  geluTanh,
  mul,
  not,
  relu,
  type Tensor,
  tanh,
  zerosLike,
} from "@xlt/graph";
import { mergeHeads, positionsAlong, scaledDotProductAttention, splitHeads } from "./attention.js";
import { LayerStack, parametersOf, siteSeed } from "./decoder.js";
import { preciseGelu } from "./erf.js";
import { NnError } from "./errors.js";
import { Dropout, Embedding, type ForwardContext, LayerNorm, Linear, type Module } from "./layers.js";
import type { ParameterDType, ParameterTree, TensorTree } from "./parameters.js";
import { subtree } from "./parameters.js";
import { prefixLength, prependColumns, prependPrefix } from "./prefix.js";
import { silu } from "./swiglu.js";

/** Hidden activations by their Hugging Face names (`hidden_act`, DistilBERT's `activation`). */
export type HiddenActivation =
  | "gelu"
  | "gelu_new"
  | "gelu_pytorch_tanh"
  | "gelu_fast"
  | "relu"
  | "silu"
  | "tanh";

/**
 * The activation functions: `gelu` is exact (erf, float64-accurate for float64 models: see
 * {@link preciseGelu}); `gelu_new`, `gelu_pytorch_tanh` and `gelu_fast` the tanh form; `silu` in
 * the form onnxruntime does not fuse into its float32-only QuickGelu kernel ({@link silu}).
 */
export const HIDDEN_ACTIVATIONS: Readonly<Record<HiddenActivation, (x: Tensor) => Tensor>> = {
  gelu: preciseGelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  relu,
  silu,
  tanh,
};

/** The activation named `name`, or a typed error listing the known ones. */
export function hiddenActivation(fn: string, argument: string, name: string): (x: Tensor) => Tensor {
  if (!Object.hasOwn(HIDDEN_ACTIVATIONS, name))
    throw new NnError(
      fn,
      argument,
      `one of ${Object.keys(HIDDEN_ACTIVATIONS).join(", ")}`,
      JSON.stringify(name),
    );
  return HIDDEN_ACTIVATIONS[name as HiddenActivation];
}

/** A post-LN transformer encoder's shape (BERT's, RoBERTa's, DistilBERT's). */
export interface EncoderConfig {
  readonly vocabSize: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  /** Feed-forward width. */
  readonly intermediate: number;
  /** Feed-forward activation (default exact `gelu`). */
  readonly activation?: HiddenActivation;
  /** Rows of the learned position table. */
  readonly maxPositions: number;
  /** Token-type (segment) vocabulary; 0 for none, as DistilBERT (default 0). */
  readonly typeVocabSize?: number;
  /**
   * RoBERTa's positions: real tokens count from `padTokenId + 1`, padding tokens (`ids ==
   * padTokenId`) keep `padTokenId` (HF's `create_position_ids_from_input_ids`). Otherwise `0 … T-1`.
   */
  readonly paddingPositions?: boolean;
  /** Default 0. */
  readonly padTokenId?: number;
  /** Default 1e-12 (BERT's). */
  readonly layerNormEpsilon?: number;
  /** Dropout after the embeddings and on each sublayer's output (default 0.1). */
  readonly hiddenDropout?: number;
  /** Dropout on attention probabilities (default 0.1). */
  readonly attentionDropout?: number;
}

export interface EncoderOptions {
  readonly dtype?: ParameterDType;
  /** Seed of the dropout masks; every dropout site derives its own from it and its path. */
  readonly seed?: number;
  /** Recompute each layer's activations in the backward pass (`checkpoint` of `@xlt/graph`): less memory, more time. */
  readonly gradientCheckpointing?: boolean;
}

/** What an encoder reads. */
export interface EncoderInput {
  /** int64 `[batch, steps]`. */
  readonly ids: Tensor;
  /** `[batch, steps]`, bool (true for real tokens) or int64 as HF's `attention_mask` (1 for real tokens). */
  readonly mask?: Tensor;
  /** int64 `[batch, steps]` segment ids (zeros when absent). */
  readonly tokenTypes?: Tensor;
  /**
   * Virtual-token embeddings `[virtual, hidden]` (the same for every row) or `[batch, virtual,
   * hidden]`, in the parameters' dtype, prepended to the word embeddings of `ids` (prompt tuning, as
   * Hugging Face PEFT runs it: `inputs_embeds = cat(prompts, word_embeddings(ids))`). The model then
   * reads `virtual + steps` positions: positions `0 … virtual+steps-1` (RoBERTa's `pad+1 …
   * pad+virtual+steps`, transformers' positions for `inputs_embeds`), token type 0 and a real-token
   * mask for the virtual ones; `mask` and `tokenTypes` still cover `ids` only. Every output keeps the
   * virtual positions first (`hidden [batch, virtual + steps, hidden]`, token logits likewise, a
   * sequence classifier reads the first virtual token), as PEFT returns them.
   */
  readonly prefix?: Tensor;
}

/** What an encoder gives (`steps` counts the virtual tokens of a prefix too). */
export interface EncoderOutput {
  /** The last layer's output `[batch, steps, hidden]`. */
  readonly hidden: Tensor;
  /** `layers + 1` tensors `[batch, steps, hidden]`: the embeddings' output, then every layer's (HF's `hidden_states`). */
  readonly hiddenStates: readonly Tensor[];
}

function checkInput(fn: string, input: EncoderInput): Tensor | undefined {
  const { ids, mask, tokenTypes } = input;
  if (ids.dtype !== "int64" || ids.rank !== 2)
    throw new NnError(fn, "ids", "an int64 tensor [batch, steps]", `${ids.dtype}[${ids.shape.join(",")}]`);
  if (tokenTypes && (tokenTypes.dtype !== "int64" || tokenTypes.rank !== 2))
    throw new NnError(
      fn,
      "tokenTypes",
      "an int64 tensor [batch, steps]",
      `${tokenTypes.dtype}[${tokenTypes.shape.join(",")}]`,
    );
  if (input.prefix) prefixLength(fn, input.prefix);
  if (!mask) return undefined;
  if ((mask.dtype !== "bool" && mask.dtype !== "int64") || mask.rank !== 2)
    throw new NnError(
      fn,
      "mask",
      "a bool or int64 tensor [batch, steps]",
      `${mask.dtype}[${mask.shape.join(",")}]`,
    );
  return mask.dtype === "bool" ? mask : not(equal(mask, 0));
}

function rate(fn: string, argument: string, value: number): number {
  if (!(value >= 0 && value < 1)) throw new NnError(fn, argument, "a number in [0, 1)", String(value));
  return value;
}

/** Word + position (+ token-type) embeddings, LayerNorm, dropout. */
export class EncoderEmbeddings implements Module<EncoderInput> {
  readonly modules: { word: Module; position: Module; tokenType?: Module; norm: Module };
  private readonly dropout: Dropout;
  private readonly padTokenId: number;

  constructor(
    readonly config: EncoderConfig,
    options: EncoderOptions = {},
  ) {
    const dtype = options.dtype ?? "float32";
    const types = config.typeVocabSize ?? 0;
    this.modules = {
      word: new Embedding(config.vocabSize, config.hidden, { dtype }),
      position: new Embedding(config.maxPositions, config.hidden, { dtype }),
      ...(types > 0 ? { tokenType: new Embedding(types, config.hidden, { dtype }) } : {}),
      norm: new LayerNorm(config.hidden, config.layerNormEpsilon ?? 1e-12, { dtype }),
    };
    this.padTokenId = config.padTokenId ?? 0;
    this.dropout = new Dropout(config.hiddenDropout ?? 0.1, siteSeed(options.seed ?? 0, "embeddings"));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  /** int64 position ids: `[batch, steps]` with padding positions, else `[steps]`. */
  positions(ids: Tensor): Tensor {
    if (!this.config.paddingPositions) return positionsAlong(ids, 1);
    const real = cast(not(equal(ids, this.padTokenId)), "int64"); // shape: [batch, steps]
    return add(mul(cumsum(real, 1), real), this.padTokenId);
  }

  forward(params: TensorTree, input: EncoderInput, context: ForwardContext): Tensor {
    const fn = "EncoderEmbeddings.forward";
    checkInput(fn, input);
    const { word, position, tokenType, norm } = this.modules;
    const { ids, prefix } = input;
    let x = word.forward(subtree(params, "word"), ids, context); // shape: [batch, steps, hidden]
    let positions: Tensor;
    if (prefix) {
      x = prependPrefix(fn, x, prefix); // shape: [batch, virtual + steps, hidden]
      // transformers' positions for inputs_embeds: sequential, RoBERTa's from padTokenId + 1.
      const along = positionsAlong(x, 1);
      positions = this.config.paddingPositions ? add(along, this.padTokenId + 1) : along;
    } else positions = this.positions(ids);
    x = add(x, position.forward(subtree(params, "position"), positions, context));
    if (tokenType) {
      const types = input.tokenTypes ?? zerosLike(ids);
      // PEFT prepends type 0 for the virtual tokens.
      const typed = prefix ? prependColumns(types, prefixLength(fn, prefix), 0) : types; // shape: [batch, virtual + steps]
      x = add(x, tokenType.forward(subtree(params, "tokenType"), typed, context));
    }
    return this.dropout.forward({}, norm.forward(subtree(params, "norm"), x, context), context);
  }
}

/** What a layer's submodules see: the hidden states and the bool padding mask. */
export interface EncoderState {
  /** `[batch, steps, hidden]`. */
  readonly hidden: Tensor;
  /** bool `[batch, steps]`, true for real tokens. */
  readonly mask?: Tensor;
}

/** Multi-head self-attention: query, key, value, heads, output projection. */
export class EncoderSelfAttention implements Module<EncoderState> {
  readonly modules: { query: Module; key: Module; value: Module; output: Module };
  readonly heads: number;
  private readonly dropoutRate: number;
  private readonly dropoutSeed: number;

  constructor(config: EncoderConfig, seed: number, dtype: ParameterDType) {
    const h = config.hidden;
    if (h % config.heads !== 0)
      throw new NnError("EncoderSelfAttention", "heads", `a divisor of hidden (${h})`, String(config.heads));
    this.modules = {
      query: new Linear(h, h, { dtype }),
      key: new Linear(h, h, { dtype }),
      value: new Linear(h, h, { dtype }),
      output: new Linear(h, h, { dtype }),
    };
    this.heads = config.heads;
    this.dropoutRate = config.attentionDropout ?? 0.1;
    this.dropoutSeed = siteSeed(seed, "probabilities");
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden, mask }: EncoderState, context: ForwardContext): Tensor {
    const { query, key, value, output } = this.modules;
    const heads = (name: "query" | "key" | "value", module: Module) =>
      splitHeads(module.forward(subtree(params, name), hidden, context), this.heads); // shape: [batch, heads, steps, d]
    const attended = scaledDotProductAttention(
      heads("query", query),
      heads("key", key),
      heads("value", value),
      {
        ...(mask ? { mask } : {}),
        ...(this.dropoutRate > 0
          ? { dropout: { rate: this.dropoutRate, seed: this.dropoutSeed, context } }
          : {}),
      },
    );
    return output.forward(subtree(params, "output"), mergeHeads(attended), context);
  }
}

/** A post-LN block: `x = norm₁(x + drop(attn(x)))`, then `x = norm₂(x + drop(W₂·act(W₁·x)))`. */
export class EncoderLayer implements Module<EncoderState> {
  readonly modules: {
    attention: Module<EncoderState>;
    attentionNorm: Module;
    intermediate: Module;
    output: Module;
    outputNorm: Module;
  };
  /** The feed-forward activation (public, like the dropouts, for wrappers that rebuild the block around adapters). */
  readonly activation: (x: Tensor) => Tensor;
  /** Dropout on the attention sublayer's output, before its residual and LayerNorm. */
  readonly attentionDropout: Dropout;
  /** Dropout on the feed-forward sublayer's output, before its residual and LayerNorm. */
  readonly outputDropout: Dropout;

  constructor(config: EncoderConfig, seed: number, dtype: ParameterDType) {
    const epsilon = config.layerNormEpsilon ?? 1e-12;
    this.modules = {
      attention: new EncoderSelfAttention(config, siteSeed(seed, "attention"), dtype),
      attentionNorm: new LayerNorm(config.hidden, epsilon, { dtype }),
      intermediate: new Linear(config.hidden, config.intermediate, { dtype }),
      output: new Linear(config.intermediate, config.hidden, { dtype }),
      outputNorm: new LayerNorm(config.hidden, epsilon, { dtype }),
    };
    this.activation = hiddenActivation("EncoderLayer", "activation", config.activation ?? "gelu");
    const hiddenDropout = config.hiddenDropout ?? 0.1;
    this.attentionDropout = new Dropout(hiddenDropout, siteSeed(seed, "attention.dropout"));
    this.outputDropout = new Dropout(hiddenDropout, siteSeed(seed, "output.dropout"));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden, mask }: EncoderState, context: ForwardContext): Tensor {
    const { attention, attentionNorm, intermediate, output, outputNorm } = this.modules;
    const state = mask ? { hidden, mask } : { hidden };
    const attended = this.attentionDropout.forward(
      {},
      attention.forward(subtree(params, "attention"), state, context),
      context,
    );
    const x = attentionNorm.forward(subtree(params, "attentionNorm"), add(hidden, attended), context);
    const inner = this.activation(intermediate.forward(subtree(params, "intermediate"), x, context));
    const out = this.outputDropout.forward(
      {},
      output.forward(subtree(params, "output"), inner, context),
      context,
    );
    return outputNorm.forward(subtree(params, "outputNorm"), add(x, out), context);
  }
}

/**
 * A post-LN transformer encoder (Devlin et al. 2019): embeddings, then `layers` blocks keyed
 * `layers.layer0 …` so parameter paths group by layer (see {@link encoderLayerGroups}).
 */
export class TransformerEncoder implements Module<EncoderInput, EncoderOutput> {
  readonly modules: { embeddings: Module<EncoderInput>; layers: LayerStack<Module<EncoderState>> };
  private readonly checkpointing: boolean;

  constructor(
    readonly config: EncoderConfig,
    options: EncoderOptions = {},
  ) {
    const fn = "TransformerEncoder";
    for (const key of ["vocabSize", "hidden", "layers", "heads", "intermediate", "maxPositions"] as const) {
      const value = config[key];
      if (!Number.isInteger(value) || value < 1)
        throw new NnError(fn, `config.${key}`, "a positive integer", String(value));
    }
    const types = config.typeVocabSize ?? 0;
    if (!Number.isInteger(types) || types < 0)
      throw new NnError(fn, "config.typeVocabSize", "an integer >= 0", String(types));
    const pad = config.padTokenId ?? 0;
    if (!Number.isInteger(pad) || pad < 0)
      throw new NnError(fn, "config.padTokenId", "an integer >= 0", String(pad));
    rate(fn, "config.hiddenDropout", config.hiddenDropout ?? 0.1);
    rate(fn, "config.attentionDropout", config.attentionDropout ?? 0.1);
    const seed = options.seed ?? 0;
    const dtype = options.dtype ?? "float32";
    this.modules = {
      embeddings: new EncoderEmbeddings(config, { dtype, seed }),
      layers: new LayerStack(
        Array.from(
          { length: config.layers },
          (_, index) => new EncoderLayer(config, siteSeed(seed, `layer${index}`), dtype),
        ),
      ),
    };
    this.checkpointing = options.gradientCheckpointing ?? false;
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, input: EncoderInput, context: ForwardContext): EncoderOutput {
    const given = checkInput("TransformerEncoder.forward", input);
    const { prefix } = input;
    // Virtual tokens are real tokens (PEFT: cat(ones(batch, virtual), attention_mask)).
    const mask =
      given && prefix ? prependColumns(given, prefixLength("TransformerEncoder.forward", prefix), 1) : given; // shape: [batch, virtual + steps]
    const { embeddings, layers } = this.modules;
    const hiddenStates = [embeddings.forward(subtree(params, "embeddings"), input, context)];
    const stack = subtree(params, "layers");
    for (const [key, layer] of layers.entries()) {
      const run = (hidden: Tensor) =>
        layer.forward(subtree(stack, key), mask ? { hidden, mask } : { hidden }, context);
      const previous = hiddenStates[hiddenStates.length - 1] as Tensor;
      hiddenStates.push(
        this.checkpointing ? checkpoint(([hidden]) => run(hidden as Tensor), [previous]) : run(previous),
      );
    }
    return { hidden: hiddenStates[hiddenStates.length - 1] as Tensor, hiddenStates };
  }
}

/**
 * Layer groups for layer-wise learning rates (`layerwiseGroups` of `@xlt/runtime`), bottom to top:
 * `embeddings`, `layer0 … layer{L-1}`, then `head` (everything outside the encoder), for a model
 * that keeps its encoder at `prefix` (`"encoder."` in {@link EncoderModel}; `""` for a bare encoder,
 * which has no head group).
 */
export function encoderLayerGroups(
  layers: number,
  prefix = "encoder.",
): { readonly name: string; readonly match: RegExp }[] {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const groups = [
    { name: "embeddings", match: new RegExp(`^${escaped}embeddings\\.`) },
    ...Array.from({ length: layers }, (_, index) => ({
      name: `layer${index}`,
      match: new RegExp(`^${escaped}layers\\.layer${index}\\.`),
    })),
  ];
  return prefix === "" ? groups : [...groups, { name: "head", match: new RegExp(`^(?!${escaped})`) }];
}
