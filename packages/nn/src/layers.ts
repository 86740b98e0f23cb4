import { add, dropout, gather, gelu, layerNorm, matmul, relu, type Tensor, tanh } from "@xlt/graph";
import { NnError } from "./errors.js";
import { fanInUniform, normal, ones, zeros } from "./init.js";
import {
  leaf,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  subtree,
  type TensorTree,
} from "./parameters.js";
import { deriveSeed } from "./random.js";

/** Whether a forward pass trains (dropout on) or evaluates, and the int64 scalar that keys dropout masks. */
export interface ForwardContext {
  readonly training: boolean;
  /** Keys the dropout masks (the optimizer step): same key, same masks in any session. */
  readonly key?: Tensor;
}

/** A layer: a parameter tree and a forward function over the bound tree. */
export interface Module<I = Tensor, O = Tensor> {
  readonly parameters: ParameterTree;
  forward(params: TensorTree, input: I, context: ForwardContext): O;
}

function positive(fn: string, argument: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new NnError(fn, argument, "a positive integer", String(value));
}

export interface LinearOptions {
  readonly bias?: boolean;
  readonly dtype?: ParameterDType;
}

/**
 * `y = x·W + b` with `W: [in, out]` (the transpose of torch's `[out, in]` layout) and torch's default
 * initialisation U(±1/√in) for both. Bias has no weight decay.
 */
export class Linear implements Module {
  readonly parameters: ParameterTree;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    positive("Linear", "inFeatures", inFeatures);
    positive("Linear", "outFeatures", outFeatures);
    const init = fanInUniform(inFeatures);
    const dtype = options.dtype ?? "float32";
    const weight = new Parameter([inFeatures, outFeatures], { init, dtype });
    this.parameters =
      (options.bias ?? true)
        ? { weight, bias: new Parameter([outFeatures], { init, decay: false, dtype }) }
        : { weight };
  }

  forward(params: TensorTree, x: Tensor): Tensor {
    const y = matmul(x, leaf(params, "weight")); // shape: [..., out]
    return "bias" in params ? add(y, leaf(params, "bias")) : y;
  }
}

/** A lookup table `[count, dim]` initialised N(0, 1) as torch's; int64 ids `[...]` give `[..., dim]`. */
export class Embedding implements Module {
  readonly parameters: ParameterTree;

  constructor(
    readonly count: number,
    readonly dim: number,
    options: { readonly dtype?: ParameterDType } = {},
  ) {
    positive("Embedding", "count", count);
    positive("Embedding", "dim", dim);
    this.parameters = {
      weight: new Parameter([count, dim], { init: normal(1), dtype: options.dtype ?? "float32" }),
    };
  }

  forward(params: TensorTree, ids: Tensor): Tensor {
    if (ids.dtype !== "int64") throw new NnError("Embedding.forward", "ids", "an int64 tensor", ids.dtype);
    return gather(leaf(params, "weight"), ids);
  }
}

/** Layer normalisation over the last axis with a gain (ones) and bias (zeros); neither decays. */
export class LayerNorm implements Module {
  readonly parameters: ParameterTree;

  constructor(
    readonly dim: number,
    readonly epsilon = 1e-5,
    options: { readonly dtype?: ParameterDType } = {},
  ) {
    positive("LayerNorm", "dim", dim);
    const dtype = options.dtype ?? "float32";
    this.parameters = {
      weight: new Parameter([dim], { init: ones, decay: false, dtype }),
      bias: new Parameter([dim], { init: zeros, decay: false, dtype }),
    };
  }

  forward(params: TensorTree, x: Tensor): Tensor {
    return layerNorm(x, leaf(params, "weight"), leaf(params, "bias"), this.epsilon);
  }
}

/** Inverted dropout with its own seed (masks keyed by `context.key` when given); identity in evaluation. */
export class Dropout implements Module {
  readonly parameters: ParameterTree = {};

  constructor(
    readonly rate: number,
    readonly seed: number,
  ) {
    if (!(rate >= 0 && rate < 1)) throw new NnError("Dropout", "rate", "a number in [0, 1)", String(rate));
  }

  forward(_params: TensorTree, x: Tensor, context: ForwardContext): Tensor {
    return dropout(x, this.rate, this.seed, context.training, context.key);
  }
}

/** Activation functions an MLP can use between layers. */
export type Activation = "relu" | "gelu" | "tanh";

const ACTIVATIONS: Readonly<Record<Activation, (x: Tensor) => Tensor>> = { relu, gelu, tanh };

export interface MlpOptions {
  readonly activation?: Activation;
  /** Dropout after each hidden activation (default 0). */
  readonly dropout?: number;
  /** Hidden layer `i` draws its dropout mask with seed `deriveSeed(seed, "dropout<i>")` mod 2³¹ - 1. */
  readonly seed?: number;
  readonly dtype?: ParameterDType;
}

/** Linear layers `sizes[0] → sizes[1] → …` with an activation (and dropout) between them. */
export class Mlp implements Module {
  readonly parameters: ParameterTree;
  private readonly layers: Linear[];
  private readonly activation: (x: Tensor) => Tensor;
  private readonly drops: Dropout[];

  constructor(
    readonly sizes: readonly number[],
    options: MlpOptions = {},
  ) {
    if (sizes.length < 2) throw new NnError("Mlp", "sizes", "at least two sizes", `[${sizes.join(",")}]`);
    this.layers = sizes
      .slice(1)
      .map((size, index) => new Linear(sizes[index] as number, size, { dtype: options.dtype ?? "float32" }));
    this.parameters = Object.fromEntries(
      this.layers.map((layer, index) => [`layer${index}`, layer.parameters]),
    );
    const activation = options.activation ?? "relu";
    if (!Object.hasOwn(ACTIVATIONS, activation))
      throw new NnError(
        "Mlp",
        "activation",
        `one of ${Object.keys(ACTIVATIONS).join(", ")}`,
        JSON.stringify(activation),
      );
    this.activation = ACTIVATIONS[activation];
    // One seed per hidden layer: a shared seed would give same-width layers the same mask.
    this.drops = sizes
      .slice(2)
      .map(
        (_, index) =>
          new Dropout(options.dropout ?? 0, deriveSeed(options.seed ?? 0, `dropout${index}`) % 2147483647),
      );
  }

  forward(params: TensorTree, x: Tensor, context: ForwardContext): Tensor {
    let h = x;
    for (const [index, layer] of this.layers.entries()) {
      h = layer.forward(subtree(params, `layer${index}`), h);
      const drop = this.drops[index];
      if (drop) h = drop.forward({}, this.activation(h), context);
    }
    return h;
  }
}
