import { add, gelu, geluTanh, relu, slice, type Tensor } from "@xlt/graph";
import { mergeHeads, scaledDotProductAttention, splitHeads } from "./attention.js";
import {
  type DecoderInput,
  type DecoderOutput,
  decoderSequence,
  decoderTensorNames,
  LayerStack,
  lmHeadLogits,
  parametersOf,
  siteSeed,
} from "./decoder.js";
import { ConfigReader } from "./decoder-config.js";
import { NnError } from "./errors.js";
import type { HfArchitecture, HfTensorMapping } from "./hf-checkpoint.js";
import { Dropout, Embedding, type ForwardContext, LayerNorm, Linear, type Module } from "./layers.js";
import { type ParameterDType, type ParameterTree, subtree, type TensorTree } from "./parameters.js";

/** GPT-2's activations, by their Hugging Face names (`gelu_new` and `gelu_pytorch_tanh` are the tanh form). */
export type Gpt2Activation = "gelu_new" | "gelu_pytorch_tanh" | "gelu" | "relu";

const ACTIVATIONS: Readonly<Record<Gpt2Activation, (x: Tensor) => Tensor>> = {
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu: gelu,
  relu: relu,
};

/** A GPT-2 configuration (the fields of Hugging Face's `GPT2Config` that shape the model). */
export interface Gpt2Config {
  readonly vocabSize: number;
  /** Learned positions (`n_positions`). */
  readonly positions: number;
  /** `n_embd`. */
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  /** MLP width (`n_inner`, default 4·hidden). */
  readonly inner?: number;
  readonly activation?: Gpt2Activation;
  readonly layerNormEpsilon?: number;
  /** Dropout after the embeddings (`embd_pdrop`). */
  readonly embeddingDropout?: number;
  /** Dropout on attention probabilities (`attn_pdrop`). */
  readonly attentionDropout?: number;
  /** Dropout on each block's attention and MLP outputs (`resid_pdrop`). */
  readonly residualDropout?: number;
  /** Output projection shares the token embeddings (default true). */
  readonly tieWordEmbeddings?: boolean;
}

export interface Gpt2Options {
  readonly dtype?: ParameterDType;
  /** Seed of the dropout masks; each dropout site derives its own from it and its path. */
  readonly seed?: number;
}

/** Reads a Hugging Face GPT-2 `config.json`; options xlt does not implement are refused. */
export function gpt2Config(config: Readonly<Record<string, unknown>>): Gpt2Config {
  const read = new ConfigReader("gpt2Config", config);
  read.unsupported("scale_attn_weights", true);
  read.unsupported("scale_attn_by_inverse_layer_idx", false);
  read.unsupported("reorder_and_upcast_attn", false);
  return {
    vocabSize: read.integer("vocab_size"),
    positions: read.integer("n_positions"),
    hidden: read.integer("n_embd"),
    layers: read.integer("n_layer"),
    heads: read.integer("n_head"),
    inner: read.integer("n_inner", 4 * read.integer("n_embd")),
    activation: read.oneOf<Gpt2Activation>("activation_function", [
      "gelu_new",
      "gelu_pytorch_tanh",
      "gelu",
      "relu",
    ]),
    layerNormEpsilon: read.number("layer_norm_epsilon", 1e-5, Number.MIN_VALUE, 1),
    embeddingDropout: read.number("embd_pdrop", 0.1, 0, 0.999),
    attentionDropout: read.number("attn_pdrop", 0.1, 0, 0.999),
    residualDropout: read.number("resid_pdrop", 0.1, 0, 0.999),
    tieWordEmbeddings: read.boolean("tie_word_embeddings", true),
  };
}

/** What a GPT-2 block's submodules see: the hidden states and the padding mask. */
export interface Gpt2State {
  /** `[batch, steps, hidden]`. */
  readonly hidden: Tensor;
  /** bool `[batch, steps]`, true for real tokens. */
  readonly mask?: Tensor;
}

/** Fused causal self-attention: `c_attn` (hidden → 3·hidden), heads, `c_proj`, residual dropout. */
export class Gpt2Attention implements Module<Gpt2State> {
  readonly modules: { c_attn: Module; c_proj: Module };
  private readonly residual: Dropout;

  constructor(
    readonly hidden: number,
    readonly heads: number,
    readonly dropout: number,
    readonly seed: number,
    dtype: ParameterDType,
  ) {
    this.modules = {
      c_attn: new Linear(hidden, 3 * hidden, { dtype }),
      c_proj: new Linear(hidden, hidden, { dtype }),
    };
    this.residual = new Dropout(dropout, siteSeed(seed, "resid_dropout"));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden, mask }: Gpt2State, context: ForwardContext): Tensor {
    const { c_attn, c_proj } = this.modules;
    const qkv = c_attn.forward(subtree(params, "c_attn"), hidden, context); // shape: [batch, steps, 3·hidden]
    const head = (part: number) => splitHeads(sliceLast(qkv, part, this.hidden), this.heads); // shape: [batch, heads, steps, headDim]
    const attended = scaledDotProductAttention(head(0), head(1), head(2), {
      causal: true,
      ...(mask ? { mask } : {}),
      ...(this.dropout > 0
        ? { dropout: { rate: this.dropout, seed: siteSeed(this.seed, "attn_dropout"), context } }
        : {}),
    }); // shape: [batch, heads, steps, headDim]
    const out = c_proj.forward(subtree(params, "c_proj"), mergeHeads(attended), context);
    return this.residual.forward({}, out, context);
  }
}

/** Part `part` of width `width` along the last axis. */
function sliceLast(x: Tensor, part: number, width: number): Tensor {
  return slice(x, -1, part * width, (part + 1) * width);
}

/** GPT-2's MLP: `c_fc` (hidden → inner), activation, `c_proj` (inner → hidden), residual dropout. */
export class Gpt2Mlp implements Module {
  readonly modules: { c_fc: Module; c_proj: Module };
  private readonly residual: Dropout;
  private readonly activation: (x: Tensor) => Tensor;

  constructor(
    hidden: number,
    inner: number,
    activation: Gpt2Activation,
    dropout: number,
    seed: number,
    dtype: ParameterDType,
  ) {
    this.modules = {
      c_fc: new Linear(hidden, inner, { dtype }),
      c_proj: new Linear(inner, hidden, { dtype }),
    };
    this.activation = ACTIVATIONS[activation];
    this.residual = new Dropout(dropout, siteSeed(seed, "dropout"));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, x: Tensor, context: ForwardContext): Tensor {
    const { c_fc, c_proj } = this.modules;
    const h = this.activation(c_fc.forward(subtree(params, "c_fc"), x, context)); // shape: [..., inner]
    return this.residual.forward({}, c_proj.forward(subtree(params, "c_proj"), h, context), context);
  }
}

/** A pre-LN block: `h + attn(ln_1(h))`, then `h + mlp(ln_2(h))`. */
export class Gpt2Block implements Module<Gpt2State> {
  readonly modules: { ln_1: Module; attn: Module<Gpt2State>; ln_2: Module; mlp: Module };

  constructor(config: Gpt2Config, seed: number, dtype: ParameterDType) {
    const epsilon = config.layerNormEpsilon ?? 1e-5;
    this.modules = {
      ln_1: new LayerNorm(config.hidden, epsilon, { dtype }),
      attn: new Gpt2Attention(
        config.hidden,
        config.heads,
        config.attentionDropout ?? 0.1,
        siteSeed(seed, "attn"),
        dtype,
      ),
      ln_2: new LayerNorm(config.hidden, epsilon, { dtype }),
      mlp: new Gpt2Mlp(
        config.hidden,
        config.inner ?? 4 * config.hidden,
        config.activation ?? "gelu_new",
        config.residualDropout ?? 0.1,
        siteSeed(seed, "mlp"),
        dtype,
      ),
    };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden, mask }: Gpt2State, context: ForwardContext): Tensor {
    const { ln_1, attn, ln_2, mlp } = this.modules;
    const normed = ln_1.forward(subtree(params, "ln_1"), hidden, context);
    const h = add(
      hidden,
      attn.forward(subtree(params, "attn"), { hidden: normed, ...(mask ? { mask } : {}) }, context),
    );
    return add(
      h,
      mlp.forward(subtree(params, "mlp"), ln_2.forward(subtree(params, "ln_2"), h, context), context),
    );
  }
}

/** GPT-2's body (HF's `GPT2Model`): token and position embeddings, blocks `h`, final norm `ln_f`. */
export class Gpt2Model implements Module<DecoderInput, readonly Tensor[]> {
  readonly modules: { wte: Embedding; wpe: Module; h: LayerStack<Gpt2Block>; ln_f: Module };
  private readonly drop: Dropout;

  constructor(
    readonly config: Gpt2Config,
    options: Gpt2Options = {},
  ) {
    const dtype = options.dtype ?? "float32";
    const seed = options.seed ?? 0;
    if (config.hidden % config.heads !== 0)
      throw new NnError(
        "Gpt2Model",
        "config.heads",
        `a divisor of hidden (${config.hidden})`,
        String(config.heads),
      );
    this.modules = {
      wte: new Embedding(config.vocabSize, config.hidden, { dtype }),
      wpe: new Embedding(config.positions, config.hidden, { dtype }),
      h: new LayerStack(
        Array.from(
          { length: config.layers },
          (_, index) => new Gpt2Block(config, siteSeed(seed, `h.layer${index}`), dtype),
        ),
      ),
      ln_f: new LayerNorm(config.hidden, config.layerNormEpsilon ?? 1e-5, { dtype }),
    };
    this.drop = new Dropout(config.embeddingDropout ?? 0.1, siteSeed(seed, "drop"));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  /** The hidden states as HF's `output_hidden_states` (the last one after `ln_f`). */
  forward(params: TensorTree, input: DecoderInput, context: ForwardContext): readonly Tensor[] {
    const { wte, wpe, h, ln_f } = this.modules;
    // With a prefix: [batch, virtual + steps, …] from here on.
    const sequence = decoderSequence("Gpt2Model.forward", input, (ids) =>
      wte.forward(subtree(params, "wte"), ids),
    );
    const { mask, positions } = sequence;
    const embedded = add(sequence.embedded, wpe.forward(subtree(params, "wpe"), positions, context));
    let hidden = this.drop.forward({}, embedded, context); // shape: [batch, steps, hidden]
    const states = [hidden];
    const blocks = subtree(params, "h");
    for (const [key, block] of h.entries()) {
      hidden = block.forward(subtree(blocks, key), { hidden, ...(mask ? { mask } : {}) }, context);
      states.push(hidden);
    }
    states[states.length - 1] = ln_f.forward(subtree(params, "ln_f"), hidden, context);
    return states;
  }
}

/**
 * GPT-2 with a language-model head (HF's `GPT2LMHeadModel`; Radford et al. 2019): parameters
 * `transformer.{wte,wpe,h.layerN.{ln_1,attn.{c_attn,c_proj},ln_2,mlp.{c_fc,c_proj}},ln_f}` and, when
 * the output embeddings are not tied, `lm_head` (a bias-free `Linear` hidden → vocab). Logits at
 * padding positions are meaningless; positions default to {@link positionIds}.
 */
export class Gpt2LmHeadModel implements Module<DecoderInput, DecoderOutput> {
  readonly modules: { transformer: Gpt2Model; lm_head?: Module };

  constructor(
    readonly config: Gpt2Config,
    options: Gpt2Options = {},
  ) {
    const transformer = new Gpt2Model(config, options);
    this.modules =
      (config.tieWordEmbeddings ?? true)
        ? { transformer }
        : {
            transformer,
            lm_head: new Linear(config.hidden, config.vocabSize, {
              bias: false,
              dtype: options.dtype ?? "float32",
            }),
          };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, input: DecoderInput, context: ForwardContext): DecoderOutput {
    const { transformer, lm_head } = this.modules;
    const hiddenStates = transformer.forward(subtree(params, "transformer"), input, context);
    const last = hiddenStates[hiddenStates.length - 1] as Tensor;
    const logits = lmHeadLogits(params, last, context, lm_head, { base: "transformer", embedding: "wte" });
    return { logits, hiddenStates };
  }
}

/** Hugging Face names of a GPT-2's parameters; only an untied `lm_head` (torch `[vocab, hidden]`) is transposed. */
export function gpt2TensorNames(model: Gpt2LmHeadModel): HfTensorMapping[] {
  return decoderTensorNames(model.parameters, (path) => path === "lm_head.weight");
}

/** The `config.json` fields a GPT-2 model determines. */
export function gpt2ToConfig(model: Gpt2LmHeadModel): Record<string, unknown> {
  const c = model.config;
  return {
    model_type: "gpt2",
    architectures: ["GPT2LMHeadModel"],
    vocab_size: c.vocabSize,
    n_positions: c.positions,
    n_embd: c.hidden,
    n_layer: c.layers,
    n_head: c.heads,
    n_inner: c.inner ?? 4 * c.hidden,
    activation_function: c.activation ?? "gelu_new",
    layer_norm_epsilon: c.layerNormEpsilon ?? 1e-5,
    embd_pdrop: c.embeddingDropout ?? 0.1,
    attn_pdrop: c.attentionDropout ?? 0.1,
    resid_pdrop: c.residualDropout ?? 0.1,
    tie_word_embeddings: c.tieWordEmbeddings ?? true,
  };
}

/**
 * GPT-2 as a Hugging Face architecture (`model_type: "gpt2"`, `GPT2LMHeadModel`; a `GPT2Model`
 * checkpoint loads through the `transformer` prefix), building models with `options`. A tied
 * `lm_head.weight` is accepted and never loaded; the attention-mask buffers `attn.bias` and
 * `attn.masked_bias` of older checkpoints are carried along unused.
 */
export function gpt2Architecture(options: Gpt2Options = {}): HfArchitecture<Gpt2LmHeadModel> {
  return {
    modelTypes: ["gpt2"],
    prefix: "transformer",
    fromConfig(config) {
      const read = new ConfigReader("gpt2Architecture.fromConfig", config);
      read.headClass("architectures", ["GPT2LMHeadModel", "GPT2Model"]);
      return new Gpt2LmHeadModel(gpt2Config(config), options);
    },
    mapping: gpt2TensorNames,
    toConfig: gpt2ToConfig,
    tied: (model) =>
      model.modules.lm_head ? [] : [{ path: "transformer.wte.weight", name: "lm_head.weight" }],
    ignored: () => [/^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/],
  };
}

/** GPT-2 in float32 with dropout seed 0: the entry of `ARCHITECTURES`. */
export const GPT2 = gpt2Architecture();
