import { add, concat, matmul, slice, sub, type Tensor, transposeLast } from "@xlt/graph";
import {
  EncoderEmbeddings,
  type EncoderInput,
  type EncoderModel,
  type EncoderModelConfig,
  type EncoderModelOutput,
  encoderLayerGroups,
  type ForwardContext,
  flatten,
  type HeadInput,
  hiddenActivation,
  leaf,
  MaskedLmHead,
  type Module,
  type ParameterDType,
  type ParameterTree,
  parametersOf,
  subtree,
  type TensorTree,
  type TransformerEncoder,
} from "@xlt/nn";
import {
  type AdapterNonLinearity,
  downUp,
  downUpParameters,
  floorDivide,
  NON_LINEARITIES,
} from "./bottleneck.js";
import { PeftError } from "./errors.js";
import { copyModule, setTrainable } from "./modules.js";
import type { ApplyOptions } from "./patterns.js";

/**
 * A NICE coupling block (Dinh et al. 2015), MAD-X's invertible adapter (Pfeiffer et al. 2020) as
 * AdapterHub's `NICECouplingBlock`: `x = [x1 | x2]` split at `⌊hidden/2⌋`, `y1 = x1 + F(x2)`,
 * `y2 = x2 + G(y1)`; the inverse `x2 = y2 - G(y1)`, `x1 = y1 - F(x2)`. `F` and `G` are
 * `up(act(down(·)))` with `in // reductionFactor` hidden units (Python's floor division); parameters `F.{down,up}` and
 * `G.{down,up}` (`{weight, bias}` each), initialised N(0, 0.02²) with zero biases as AdapterHub does.
 */
export class NiceCouplingBlock implements Module {
  readonly parameters: ParameterTree;
  /** `⌊hidden/2⌋` and `hidden - ⌊hidden/2⌋`. */
  readonly splits: readonly [number, number];

  constructor(
    readonly hidden: number,
    readonly reductionFactor: number,
    readonly nonLinearity: AdapterNonLinearity,
    dtype: ParameterDType,
  ) {
    const first = Math.floor(hidden / 2);
    const second = hidden - first;
    this.splits = [first, second];
    const size = (n: number) => floorDivide(n, reductionFactor);
    this.parameters = {
      F: downUpParameters(second, size(second), first, "bert", dtype),
      G: downUpParameters(first, size(first), second, "bert", dtype),
    };
  }

  private halves(x: Tensor): [Tensor, Tensor] {
    const axis = x.rank - 1;
    return [slice(x, axis, 0, this.splits[0]), slice(x, axis, this.splits[0])];
  }

  private subnet(params: TensorTree, name: "F" | "G", x: Tensor): Tensor {
    return downUp(subtree(params, name), x, NON_LINEARITIES[this.nonLinearity]);
  }

  /** `[..., hidden]` → `[..., hidden]`. */
  forward(params: TensorTree, x: Tensor): Tensor {
    const [x1, x2] = this.halves(x);
    const y1 = add(x1, this.subnet(params, "F", x2));
    const y2 = add(x2, this.subnet(params, "G", y1));
    return concat([y1, y2], x.rank - 1);
  }

  /** The inverse of {@link forward} (AdapterHub's `rev=True`). */
  inverse(params: TensorTree, y: Tensor): Tensor {
    const [y1, y2] = this.halves(y);
    const x2 = sub(y2, this.subnet(params, "G", y1));
    const x1 = sub(y1, this.subnet(params, "F", x2));
    return concat([x1, x2], y.rank - 1);
  }
}

/**
 * An encoder's embeddings followed by an invertible adapter (AdapterHub's forward hook on the
 * embeddings module): the embeddings' submodules keep their keys and paths, the block sits at
 * `invertible`.
 */
export class InvertibleEmbeddings implements Module<EncoderInput> {
  readonly modules: EncoderEmbeddings["modules"] & { readonly invertible: NiceCouplingBlock };

  constructor(
    readonly base: EncoderEmbeddings,
    invertible: NiceCouplingBlock,
  ) {
    this.modules = { ...base.modules, invertible };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, input: EncoderInput, context: ForwardContext): Tensor {
    const { invertible, ...modules } = this.modules;
    const embeddings = copyModule(this.base, { modules }).forward(params, input, context); // shape: [batch, steps, hidden]
    return invertible.forward(subtree(params, "invertible"), embeddings);
  }
}

/**
 * An `EncoderModel` whose embeddings carry an invertible adapter. With a masked-LM head, the
 * adapter's inverse runs between the head's transform (dense, activation, LayerNorm) and the decoder
 * tied to the word embeddings, as AdapterHub's pre-hook on the output embeddings places it (MAD-X);
 * other heads read the encoder as `EncoderModel` does. Parameter paths are `EncoderModel`'s, plus
 * `encoder.embeddings.invertible.{F,G}.{down,up}.{weight,bias}`.
 */
export class InvertibleAdapterModel implements Module<EncoderInput, EncoderModelOutput> {
  private readonly headActivation: (x: Tensor) => Tensor;

  constructor(
    readonly config: EncoderModelConfig,
    readonly modules: { readonly encoder: TransformerEncoder; readonly head?: Module<HeadInput> },
  ) {
    const activation = config.headActivation ?? config.activation ?? "gelu";
    this.headActivation = hiddenActivation("InvertibleAdapterModel", "config.headActivation", activation);
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  /** `EncoderModel.layerGroups`: the invertible adapter is in the `embeddings` group. */
  layerGroups(): { readonly name: string; readonly match: RegExp }[] {
    const groups = encoderLayerGroups(this.config.layers);
    return this.modules.head ? groups : groups.slice(0, -1);
  }

  forward(params: TensorTree, input: EncoderInput, context: ForwardContext): EncoderModelOutput {
    const { encoder, head } = this.modules;
    const encoderParams = subtree(params, "encoder");
    const out = encoder.forward(encoderParams, input, context);
    if (!head) return out;
    const embeddingParams = subtree(encoderParams, "embeddings");
    const wordEmbeddings = leaf(subtree(embeddingParams, "word"), "weight"); // shape: [vocab, hidden]
    const headParams = subtree(params, "head");
    const embeddings = encoder.modules.embeddings;
    if (head instanceof MaskedLmHead && embeddings instanceof InvertibleEmbeddings) {
      const { dense, norm } = head.modules;
      const projected = dense.forward(subtree(headParams, "dense"), out.hidden, context);
      const transformed = norm.forward(subtree(headParams, "norm"), this.headActivation(projected), context);
      const inverted = embeddings.modules.invertible.inverse(
        subtree(embeddingParams, "invertible"),
        transformed,
      );
      const logits = add(matmul(inverted, transposeLast(wordEmbeddings)), leaf(headParams, "bias")); // shape: [batch, steps, vocab]
      return { ...out, logits };
    }
    const result = head.forward(headParams, { hidden: out.hidden, wordEmbeddings }, context);
    return this.config.head === "base" ? { ...out, pooled: result } : { ...out, logits: result };
  }
}

/** MAD-X's invertible adapter (AdapterHub's `inv_adapter` settings of `SeqBnInvConfig`). */
export interface InvertibleAdapterConfig {
  /** `"nice"` (default), the only block xlt implements (AdapterHub also offers `"glow"`). */
  readonly block?: "nice";
  /** `inv_adapter_reduction_factor` (default 2): `F` and `G` have `(hidden/2) // reductionFactor` hidden units. */
  readonly reductionFactor?: number;
  /** The adapter config's `non_linearity` (default `"relu"`, `SeqBnInvConfig`'s). */
  readonly nonLinearity?: AdapterNonLinearity;
}

/**
 * Puts an invertible adapter after the embeddings of `model` (and its inverse before a masked-LM
 * head's decoder) and freezes everything else unless `keepTrainable`: MAD-X's language adapter is
 * `applyEncoderAdapters(model, SEQ_BN)` plus this, trained with masked-LM; the task adapter then
 * stacks over both with the invertible adapter frozen.
 */
export function applyInvertibleAdapter(
  model: EncoderModel | InvertibleAdapterModel,
  config: InvertibleAdapterConfig = {},
  options: Pick<ApplyOptions, "keepTrainable"> = {},
): InvertibleAdapterModel {
  const fn = "applyInvertibleAdapter";
  const block = config.block ?? "nice";
  if (block !== "nice") throw new PeftError(fn, "block", '"nice"', JSON.stringify(block));
  const nonLinearity = config.nonLinearity ?? "relu";
  if (!Object.hasOwn(NON_LINEARITIES, nonLinearity))
    throw new PeftError(
      fn,
      "nonLinearity",
      `one of ${Object.keys(NON_LINEARITIES).join(", ")}`,
      JSON.stringify(nonLinearity),
    );
  const { encoder } = model.modules;
  const embeddings = encoder.modules.embeddings;
  if (!(embeddings instanceof EncoderEmbeddings))
    throw new PeftError(
      fn,
      "model",
      "an encoder whose embeddings are @xlt/nn's EncoderEmbeddings (one invertible adapter per model)",
      embeddings.constructor.name,
    );
  const hidden = embeddings.config.hidden;
  const reductionFactor = config.reductionFactor ?? 2;
  if (!(reductionFactor > 0 && floorDivide(Math.floor(hidden / 2), reductionFactor) >= 1))
    throw new PeftError(
      fn,
      "reductionFactor",
      `a number > 0 that leaves F and G at least one unit (hidden/2 = ${Math.floor(hidden / 2)})`,
      String(reductionFactor),
    );
  const dtype = flatten(embeddings.parameters)[0]?.[1].dtype ?? "float32";
  const invertible = new NiceCouplingBlock(hidden, reductionFactor, nonLinearity, dtype);
  const adapted = copyModule(encoder, {
    modules: { ...encoder.modules, embeddings: new InvertibleEmbeddings(embeddings, invertible) },
  });
  const root = new InvertibleAdapterModel(model.config, { ...model.modules, encoder: adapted });
  return setTrainable(
    root,
    (path, parameter) =>
      (options.keepTrainable === true && parameter.trainable) ||
      path.startsWith("encoder.embeddings.invertible."),
  );
}
