import {
  and,
  apply1,
  cast,
  div,
  equal,
  greater,
  logSoftmax,
  matmul,
  mul,
  neg,
  not,
  oneHot,
  onesLike,
  type Primitive,
  reduceSum,
  slice,
  sub,
  type Tensor,
  transposeLast,
  unsqueeze,
  where,
} from "@xlt/graph";
import { positionsAlong } from "./attention.js";
import { NnError } from "./errors.js";
import type { HfTensorMapping } from "./hf-checkpoint.js";
import type { ForwardContext, Module } from "./layers.js";
import { flatten, leaf, type ParameterTree, subtree, type TensorTree } from "./parameters.js";
import { prefixLabels, prefixLength, prependColumns, prependPrefix } from "./prefix.js";
import { deriveSeed } from "./random.js";

/**
 * The parameter tree of a record of submodules (keys become subtree keys), read afresh on each call
 * so that a module swapped into the record (a LoRA-wrapped `Linear`, say) shows up.
 */
export function parametersOf(modules: object): ParameterTree {
  return Object.fromEntries(
    Object.entries(modules).flatMap(([name, module]: [string, unknown]) =>
      isModule(module) ? [[name, module.parameters]] : [],
    ),
  );
}

const isModule = (value: unknown): value is { readonly parameters: ParameterTree } =>
  typeof value === "object" && value !== null && "parameters" in value;

/**
 * A stack of layers keyed `layer0`, `layer1`, … in `modules`, so parameter paths group by layer
 * (`….layers.layer3.…`) and a layer can be swapped.
 */
export class LayerStack<M extends { readonly parameters: ParameterTree }> {
  readonly modules: Record<string, M>;

  constructor(layers: readonly M[]) {
    this.modules = Object.fromEntries(layers.map((layer, index) => [`layer${index}`, layer]));
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  /** The layers in order, with their keys. */
  entries(): [key: string, layer: M][] {
    return Object.keys(this.modules).map((key) => [key, this.modules[key] as M]);
  }
}

// ONNX CumSum along one axis (int64 here: positions are never differentiated).
const CumSum: Primitive<number> = {
  name: "CumSum",
  infer: ([x]) => [{ dtype: (x as Tensor).dtype, shape: (x as Tensor).shape }],
  emit: (context, [x], outputs, axis) => {
    const scalar = context.fresh("axis");
    context.node("Squeeze", [context.int64([axis])], [scalar]);
    context.node("CumSum", [x as string, scalar], outputs);
  },
};

/**
 * Validates a decoder's inputs: int64 `ids [batch, steps]` and an optional `mask [batch, steps]`
 * (bool, true for real tokens, or int64 as HF's `attention_mask`, 1 for real tokens); returns the
 * mask as bool.
 */
export function checkDecoderInputs(fn: string, ids: Tensor, mask: Tensor | undefined): Tensor | undefined {
  if (ids.dtype !== "int64" || ids.rank !== 2)
    throw new NnError(fn, "ids", "an int64 tensor [batch, steps]", `${ids.dtype} [${ids.shape.join(",")}]`);
  if (mask === undefined) return undefined;
  if ((mask.dtype !== "bool" && mask.dtype !== "int64") || mask.rank !== 2)
    throw new NnError(
      fn,
      "mask",
      "a bool or int64 tensor [batch, steps]",
      `${mask.dtype} [${mask.shape.join(",")}]`,
    );
  return mask.dtype === "bool" ? mask : not(equal(mask, 0));
}

/**
 * Position ids `[batch, steps]` (int64): `0, 1, 2, …` counted over real tokens only, so a
 * left-padded row gets the positions of the same row unpadded (HF's `generate` convention:
 * `cumsum(mask) - 1`); padding positions get 0. Without a mask, `0 … steps - 1`.
 */
export function positionIds(ids: Tensor, mask?: Tensor): Tensor {
  const real = checkDecoderInputs("positionIds", ids, mask);
  return real ? realPositions(real) : sub(apply1(CumSum, [onesLike(ids)], 1), 1);
}

/** `cumsum(real) - 1` where `real` (bool `[batch, steps]`) holds, 0 elsewhere. */
function realPositions(real: Tensor): Tensor {
  const positions = sub(apply1(CumSum, [cast(real, "int64")], 1), 1); // shape: [batch, steps]
  return where(real, positions, 0);
}

/**
 * Causal-LM labels `[batch, steps]`: the token id where the token is real and some earlier token is
 * real (it has a context to be predicted from), -100 (ignored) elsewhere. For right padding and
 * unpadded rows this is HF's `labels = input_ids` with padding set to -100; for left padding it
 * also ignores the first real token, which HF would predict from a padding position.
 *
 * With `virtualTokens > 0` (a prompt prefix, see {@link DecoderInput.prefix}) the labels cover the
 * whole sequence, `[batch, virtualTokens + steps]`: -100 for the virtual tokens, then every real
 * token's id (each has the virtual tokens before it), -100 for padding. This is PEFT's prompt
 * tuning: `cat(full((batch, virtual), -100), labels)` with HF's labels.
 */
export function causalLmLabels(ids: Tensor, mask?: Tensor, virtualTokens = 0): Tensor {
  const real = checkDecoderInputs("causalLmLabels", ids, mask);
  if (!Number.isInteger(virtualTokens) || virtualTokens < 0)
    throw new NnError("causalLmLabels", "virtualTokens", "an integer >= 0", String(virtualTokens));
  if (virtualTokens > 0) return prefixLabels(real ? where(real, ids, -100) : ids, virtualTokens);
  const predicted = greater(positionIds(ids, mask), 0);
  return where(real ? and(real, predicted) : predicted, ids, -100);
}

/**
 * A causal LM's logits from its last hidden state: its own `lm_head` when untied, else the word
 * embedding table at `base.embedding` (`[vocab, hidden]`) transposed, as tied HF models do.
 */
export function lmHeadLogits(
  params: TensorTree,
  last: Tensor,
  context: ForwardContext,
  lmHead: Module | undefined,
  tied: { readonly base: string; readonly embedding: string },
): Tensor {
  return lmHead
    ? lmHead.forward(subtree(params, "lm_head"), last, context)
    : matmul(last, transposeLast(leaf(subtree(subtree(params, tied.base), tied.embedding), "weight")));
}

/** The causal-LM loss and its parts: perplexity is `exp(nll / count)` over any number of batches. */
export interface CausalLmLoss {
  /** Mean NLL over predicted tokens (0 when there are none): HF's `CausalLMOutput.loss`. */
  readonly loss: Tensor;
  /** Summed NLL (nats) of the predicted tokens. */
  readonly nll: Tensor;
  /** Number of predicted tokens, as a float scalar. */
  readonly count: Tensor;
}

/**
 * Next-token cross-entropy as HF's causal LMs compute it: `logits[:, t]` predicts `labels[:, t+1]`
 * (the labels are shifted by one inside), labels equal to -100 are ignored. `logits: [batch,
 * steps, vocab]`, `labels: [batch, steps]` int64 (see {@link causalLmLabels}).
 */
export function causalLmLoss(logits: Tensor, labels: Tensor): CausalLmLoss {
  const vocab = logits.shape[2];
  if (logits.rank !== 3 || typeof vocab !== "number")
    throw new NnError(
      "causalLmLoss",
      "logits",
      "a tensor [batch, steps, vocab] with a fixed vocab",
      `[${logits.shape.join(",")}]`,
    );
  if (labels.dtype !== "int64" || labels.rank !== 2)
    throw new NnError(
      "causalLmLoss",
      "labels",
      "an int64 tensor [batch, steps]",
      `${labels.dtype} [${labels.shape.join(",")}]`,
    );
  const logp = logSoftmax(slice(logits, 1, 0, -1)); // shape: [batch, steps-1, vocab]
  const targets = slice(labels, 1, 1); // shape: [batch, steps-1]
  const picked = reduceSum(mul(logp, oneHot(targets, vocab, logits.dtype)), [-1]); // shape: [batch, steps-1]
  const keep = cast(not(equal(targets, -100)), logits.dtype);
  const nll = neg(reduceSum(mul(picked, keep)));
  const count = reduceSum(keep);
  return { loss: div(nll, where(greater(count, 0), count, 1)), nll, count };
}

/** What a decoder's forward returns. */
export interface DecoderOutput {
  /** `[batch, steps, vocab]`. */
  readonly logits: Tensor;
  /**
   * `layers + 1` tensors `[batch, steps, hidden]`, as HF's `output_hidden_states`: the embeddings,
   * the output of each block but the last, and the last block's output after the final norm.
   */
  readonly hiddenStates: readonly Tensor[];
}

/** A decoder's inputs: int64 `ids [batch, steps]`, an optional mask and optional position ids. */
export interface DecoderInput {
  readonly ids: Tensor;
  /** `[batch, steps]`, bool (true = real token) or int64 (1 = real token); none means all real. */
  readonly mask?: Tensor;
  /**
   * int64 `[batch, steps]`; default {@link positionIds} of the ids and mask. With a `prefix` they
   * cover the whole sequence, `[batch, virtual + steps]`.
   */
  readonly positions?: Tensor;
  /**
   * Virtual-token embeddings `[virtual, hidden]` (the same for every row) or `[batch, virtual,
   * hidden]`, in the parameters' dtype, prepended to the token embeddings of `ids` (prompt tuning,
   * as Hugging Face PEFT runs it: `inputs_embeds = cat(prompts, embed_tokens(ids))`). The virtual
   * tokens count as real: the mask is extended by ones and the default positions are
   * {@link positionIds} over the extended mask (`0 … virtual-1`, then the text's), which is
   * transformers' `arange(virtual + steps)` on unpadded and right-padded rows. Logits and hidden
   * states keep the virtual positions first, `[batch, virtual + steps, …]`, as PEFT returns them;
   * `causalLmLabels(ids, mask, virtual)` gives the matching labels.
   */
  readonly prefix?: Tensor;
}

/** A decoder input over the whole sequence: embeddings with any prefix in front, bool mask, positions. */
export interface DecoderSequence {
  /** `[batch, virtual + steps, hidden]`. */
  readonly embedded: Tensor;
  /** bool `[batch, virtual + steps]`, absent when every token is real. */
  readonly mask?: Tensor;
  /** int64 `[batch, virtual + steps]` (or `[1, virtual + steps]` when every token is real). */
  readonly positions: Tensor;
}

/**
 * Validates a decoder's input and joins `input.prefix` (if any) to the token embeddings
 * `embed(ids)` (`[batch, steps, hidden]`), extending the mask and defaulting the positions as
 * {@link DecoderInput.prefix} says; without a prefix, the mask and {@link positionIds}.
 */
export function decoderSequence(
  fn: string,
  input: DecoderInput,
  embed: (ids: Tensor) => Tensor,
): DecoderSequence {
  const given = checkDecoderInputs(fn, input.ids, input.mask);
  const embedded = embed(input.ids); // shape: [batch, steps, hidden]
  const { prefix } = input;
  if (!prefix) {
    const positions = input.positions ?? positionIds(input.ids, given);
    return given ? { embedded, mask: given, positions } : { embedded, positions };
  }
  const virtual = prefixLength(fn, prefix);
  const joined = prependPrefix(fn, embedded, prefix); // shape: [batch, virtual + steps, hidden]
  if (!given)
    return { embedded: joined, positions: input.positions ?? unsqueeze(positionsAlong(joined, 1), [0]) };
  const mask = prependColumns(given, virtual, 1); // shape: [batch, virtual + steps]
  return { embedded: joined, mask, positions: input.positions ?? realPositions(mask) };
}

/** A causal language model: a module from {@link DecoderInput} to {@link DecoderOutput}. */
export type CausalLm = Module<DecoderInput, DecoderOutput>;

/** The dropout seed of a named site (`deriveSeed(seed, site)` below 2³¹ - 1, the keyed-noise bound). */
export function siteSeed(seed: number, site: string): number {
  return deriveSeed(seed, site) % 2147483647;
}

/**
 * Hugging Face names of a decoder's parameters: the dotted path with `layerN` written `N`
 * (`transformer.h.layer0.ln_1.weight` is `transformer.h.0.ln_1.weight`), transposed where
 * `transposed(path)` says so (torch `nn.Linear` weights are `[out, in]`, xlt's `[in, out]`).
 */
export function decoderTensorNames(
  parameters: ParameterTree,
  transposed: (path: string) => boolean,
): HfTensorMapping[] {
  return flatten(parameters).map(([path]) => ({
    path,
    name: path.replace(/\.layer(\d+)\./, ".$1."),
    ...(transposed(path) ? { transpose: true } : {}),
  }));
}
