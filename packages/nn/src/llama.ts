import { add, type Tensor } from "@xlt/graph";
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
import { Embedding, type ForwardContext, Linear, type Module } from "./layers.js";
import { type ParameterDType, type ParameterTree, subtree, type TensorTree } from "./parameters.js";
import { RmsNorm } from "./rms-norm.js";
import { applyRotary, type RotaryTables, rotaryTables } from "./rotary.js";
import { SwiGlu } from "./swiglu.js";

/** A Llama configuration (the fields of Hugging Face's `LlamaConfig` that shape the model). */
export interface LlamaConfig {
  readonly vocabSize: number;
  readonly hidden: number;
  /** SwiGLU width (`intermediate_size`). */
  readonly inner: number;
  readonly layers: number;
  readonly heads: number;
  /** Key/value heads (`num_key_value_heads`, default `heads`): fewer is grouped-query attention. */
  readonly kvHeads?: number;
  readonly rmsNormEpsilon?: number;
  /** Base of the rotary frequencies (`rope_theta`, default 10000). */
  readonly ropeTheta?: number;
  /** Dropout on attention probabilities (`attention_dropout`, default 0). */
  readonly attentionDropout?: number;
  /** Output projection shares the token embeddings (default false). */
  readonly tieWordEmbeddings?: boolean;
}

export interface LlamaOptions {
  readonly dtype?: ParameterDType;
  /** Seed of the attention dropout masks; each layer derives its own. */
  readonly seed?: number;
}

/** Reads a Hugging Face Llama `config.json`; options xlt does not implement are refused. */
export function llamaConfig(config: Readonly<Record<string, unknown>>): LlamaConfig {
  const read = new ConfigReader("llamaConfig", config);
  read.unsupported("attention_bias", false);
  read.unsupported("mlp_bias", false);
  read.unsupported("rope_scaling", null);
  read.unsupported("pretraining_tp", 1);
  read.oneOf("hidden_act", ["silu"]);
  const hidden = read.integer("hidden_size");
  const heads = read.integer("num_attention_heads");
  read.unsupported("head_dim", hidden / heads);
  return {
    vocabSize: read.integer("vocab_size"),
    hidden,
    inner: read.integer("intermediate_size"),
    layers: read.integer("num_hidden_layers"),
    heads,
    kvHeads: read.integer("num_key_value_heads", heads),
    rmsNormEpsilon: read.number("rms_norm_eps", 1e-6, Number.MIN_VALUE, 1),
    ropeTheta: read.number("rope_theta", 10000, Number.MIN_VALUE, Number.MAX_VALUE),
    attentionDropout: read.number("attention_dropout", 0, 0, 0.999),
    tieWordEmbeddings: read.boolean("tie_word_embeddings", false),
  };
}

/** What a Llama layer's submodules see: hidden states, padding mask and rotary tables. */
export interface LlamaState {
  /** `[batch, steps, hidden]`. */
  readonly hidden: Tensor;
  /** bool `[batch, steps]`, true for real tokens. */
  readonly mask?: Tensor;
  readonly rotary: RotaryTables;
}

/** Causal self-attention with rotary positions and grouped-query heads; bias-free projections. */
export class LlamaAttention implements Module<LlamaState> {
  readonly modules: { q_proj: Module; k_proj: Module; v_proj: Module; o_proj: Module };

  constructor(
    readonly hidden: number,
    readonly heads: number,
    readonly kvHeads: number,
    readonly dropout: number,
    readonly seed: number,
    dtype: ParameterDType,
  ) {
    const headDim = hidden / heads;
    const linear = (from: number, to: number) => new Linear(from, to, { bias: false, dtype });
    this.modules = {
      q_proj: linear(hidden, hidden),
      k_proj: linear(hidden, kvHeads * headDim),
      v_proj: linear(hidden, kvHeads * headDim),
      o_proj: linear(hidden, hidden),
    };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, { hidden, mask, rotary }: LlamaState, context: ForwardContext): Tensor {
    const { q_proj, k_proj, v_proj, o_proj } = this.modules;
    const project = (module: Module, name: string, heads: number) =>
      splitHeads(module.forward(subtree(params, name), hidden, context), heads); // shape: [batch, heads, steps, headDim]
    const q = applyRotary(project(q_proj, "q_proj", this.heads), rotary);
    const k = applyRotary(project(k_proj, "k_proj", this.kvHeads), rotary);
    const v = project(v_proj, "v_proj", this.kvHeads);
    const attended = scaledDotProductAttention(q, k, v, {
      causal: true,
      ...(mask ? { mask } : {}),
      ...(this.dropout > 0 ? { dropout: { rate: this.dropout, seed: this.seed, context } } : {}),
    });
    return o_proj.forward(subtree(params, "o_proj"), mergeHeads(attended), context);
  }
}

/** A pre-norm Llama layer: `h + attn(rms(h))`, then `h + swiglu(rms(h))`. */
export class LlamaDecoderLayer implements Module<LlamaState> {
  readonly modules: {
    input_layernorm: Module;
    self_attn: Module<LlamaState>;
    post_attention_layernorm: Module;
    mlp: Module;
  };

  constructor(config: LlamaConfig, seed: number, dtype: ParameterDType) {
    const epsilon = config.rmsNormEpsilon ?? 1e-6;
    this.modules = {
      input_layernorm: new RmsNorm(config.hidden, epsilon, { dtype }),
      self_attn: new LlamaAttention(
        config.hidden,
        config.heads,
        config.kvHeads ?? config.heads,
        config.attentionDropout ?? 0,
        siteSeed(seed, "self_attn"),
        dtype,
      ),
      post_attention_layernorm: new RmsNorm(config.hidden, epsilon, { dtype }),
      mlp: new SwiGlu(config.hidden, config.inner, { dtype }),
    };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, state: LlamaState, context: ForwardContext): Tensor {
    const { input_layernorm, self_attn, post_attention_layernorm, mlp } = this.modules;
    const normed = input_layernorm.forward(subtree(params, "input_layernorm"), state.hidden, context);
    const h = add(
      state.hidden,
      self_attn.forward(subtree(params, "self_attn"), { ...state, hidden: normed }, context),
    );
    const m = post_attention_layernorm.forward(subtree(params, "post_attention_layernorm"), h, context);
    return add(h, mlp.forward(subtree(params, "mlp"), m, context));
  }
}

function checkConfig(config: LlamaConfig): void {
  const kvHeads = config.kvHeads ?? config.heads;
  if (config.hidden % config.heads !== 0 || (config.hidden / config.heads) % 2 !== 0)
    throw new NnError(
      "LlamaModel",
      "config.heads",
      `a divisor of hidden (${config.hidden}) leaving an even head size`,
      String(config.heads),
    );
  if (!Number.isInteger(kvHeads) || kvHeads < 1 || config.heads % kvHeads !== 0)
    throw new NnError(
      "LlamaModel",
      "config.kvHeads",
      `a divisor of heads (${config.heads})`,
      String(kvHeads),
    );
}

/** Llama's body (HF's `LlamaModel`): token embeddings, `layers`, final RMSNorm `norm`. */
export class LlamaModel implements Module<DecoderInput, readonly Tensor[]> {
  readonly modules: {
    embed_tokens: Embedding;
    layers: LayerStack<LlamaDecoderLayer>;
    norm: Module;
  };

  constructor(
    readonly config: LlamaConfig,
    options: LlamaOptions = {},
  ) {
    checkConfig(config);
    const dtype = options.dtype ?? "float32";
    const seed = options.seed ?? 0;
    this.modules = {
      embed_tokens: new Embedding(config.vocabSize, config.hidden, { dtype }),
      layers: new LayerStack(
        Array.from(
          { length: config.layers },
          (_, index) => new LlamaDecoderLayer(config, siteSeed(seed, `layers.layer${index}`), dtype),
        ),
      ),
      norm: new RmsNorm(config.hidden, config.rmsNormEpsilon ?? 1e-6, { dtype }),
    };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  /** The hidden states as HF's `output_hidden_states` (the last one after `norm`). */
  forward(params: TensorTree, input: DecoderInput, context: ForwardContext): readonly Tensor[] {
    const { embed_tokens, layers, norm } = this.modules;
    // With a prefix: [batch, virtual + steps, …] from here on.
    const { embedded, mask, positions } = decoderSequence("LlamaModel.forward", input, (ids) =>
      embed_tokens.forward(subtree(params, "embed_tokens"), ids),
    );
    let hidden = embedded;
    const rotary = rotaryTables(
      positions,
      this.config.hidden / this.config.heads,
      this.config.ropeTheta ?? 10000,
      hidden.dtype === "float64" ? "float64" : "float32",
    );
    const states = [hidden];
    const stack = subtree(params, "layers");
    for (const [key, layer] of layers.entries()) {
      hidden = layer.forward(subtree(stack, key), { hidden, rotary, ...(mask ? { mask } : {}) }, context);
      states.push(hidden);
    }
    states[states.length - 1] = norm.forward(subtree(params, "norm"), hidden, context);
    return states;
  }
}

/**
 * A Llama-style causal LM (HF's `LlamaForCausalLM`; Touvron et al. 2023): parameters
 * `model.{embed_tokens,layers.layerN.{input_layernorm,self_attn.{q,k,v,o}_proj,
 * post_attention_layernorm,mlp.{gate,up,down}_proj},norm}` and, unless tied, `lm_head`.
 */
export class LlamaForCausalLm implements Module<DecoderInput, DecoderOutput> {
  readonly modules: { model: LlamaModel; lm_head?: Module };

  constructor(
    readonly config: LlamaConfig,
    options: LlamaOptions = {},
  ) {
    const model = new LlamaModel(config, options);
    this.modules = config.tieWordEmbeddings
      ? { model }
      : {
          model,
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
    const { model, lm_head } = this.modules;
    const hiddenStates = model.forward(subtree(params, "model"), input, context);
    const last = hiddenStates[hiddenStates.length - 1] as Tensor;
    const logits = lmHeadLogits(params, last, context, lm_head, { base: "model", embedding: "embed_tokens" });
    return { logits, hiddenStates };
  }
}

/** Hugging Face names of a Llama's parameters; every projection (torch `nn.Linear`, `[out, in]`) is transposed. */
export function llamaTensorNames(model: LlamaForCausalLm): HfTensorMapping[] {
  return decoderTensorNames(model.parameters, (path) => /_proj\.weight$|^lm_head\.weight$/.test(path));
}

/** The `config.json` fields a Llama model determines. */
export function llamaToConfig(model: LlamaForCausalLm): Record<string, unknown> {
  const c = model.config;
  return {
    model_type: "llama",
    architectures: ["LlamaForCausalLM"],
    vocab_size: c.vocabSize,
    hidden_size: c.hidden,
    intermediate_size: c.inner,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads ?? c.heads,
    rms_norm_eps: c.rmsNormEpsilon ?? 1e-6,
    rope_theta: c.ropeTheta ?? 10000,
    hidden_act: "silu",
    attention_bias: false,
    mlp_bias: false,
    attention_dropout: c.attentionDropout ?? 0,
    tie_word_embeddings: c.tieWordEmbeddings ?? false,
  };
}

/**
 * Llama as a Hugging Face architecture (`model_type: "llama"`, `LlamaForCausalLM`; a `LlamaModel`
 * checkpoint loads through the `model` prefix), building models with `options`. A tied
 * `lm_head.weight` is accepted and never loaded; the `rotary_emb.inv_freq` buffers of older
 * checkpoints are carried along unused (xlt computes the frequencies from `rope_theta`).
 */
export function llamaArchitecture(options: LlamaOptions = {}): HfArchitecture<LlamaForCausalLm> {
  return {
    modelTypes: ["llama"],
    prefix: "model",
    fromConfig(config) {
      const read = new ConfigReader("llamaArchitecture.fromConfig", config);
      read.headClass("architectures", ["LlamaForCausalLM", "LlamaModel"]);
      return new LlamaForCausalLm(llamaConfig(config), options);
    },
    mapping: llamaTensorNames,
    toConfig: llamaToConfig,
    tied: (model) =>
      model.modules.lm_head ? [] : [{ path: "model.embed_tokens.weight", name: "lm_head.weight" }],
    ignored: () => [/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/],
  };
}

/** Llama in float32 with dropout seed 0: the entry of `ARCHITECTURES`. */
export const LLAMA = llamaArchitecture();
