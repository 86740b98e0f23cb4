import { add, concat, matmul, mul, reduceSum, reshape, softmax, type Tensor, unsqueeze } from "@xlt/graph";
import {
  leaf,
  type Module,
  ones,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  type TensorTree,
  zeros,
} from "@xlt/nn";
import { HeadsError } from "./errors.js";

function checkLayers(fn: string, layers: readonly Tensor[], count: number): Tensor {
  if (layers.length !== count) throw new HeadsError(fn, "layers", `${count} tensors`, String(layers.length));
  const stacked = concat(
    layers.map((layer) => unsqueeze(layer, [0])),
    0,
  ); // shape: [L, ..., features]
  return stacked;
}

/**
 * ELMo's scalar mix (Peters et al. 2018, eq. 1): `γ · Σ_l softmax(w)_l · h_l` over the layers of a
 * multi-layer encoder, with learned weights `weights [L]` (zeros: an even mix at first) and scale
 * `gamma [1]` (one), neither decayed. Every layer must have the same shape.
 */
export class ScalarMix implements Module<readonly Tensor[], Tensor> {
  readonly parameters: ParameterTree;

  constructor(
    readonly layers: number,
    options: { readonly dtype?: ParameterDType } = {},
  ) {
    if (!(Number.isInteger(layers) && layers >= 1))
      throw new HeadsError("ScalarMix", "layers", "a positive integer", String(layers));
    const dtype = options.dtype ?? "float32";
    this.parameters = {
      weights: new Parameter([layers], { init: zeros, dtype, decay: false }),
      gamma: new Parameter([1], { init: ones, dtype, decay: false }),
    };
  }

  /** The mix of `layers` (each `[..., features]`), shaped as one of them. */
  forward(params: TensorTree, layers: readonly Tensor[]): Tensor {
    const stacked = checkLayers("ScalarMix.forward", layers, this.layers); // shape: [L, ...]
    const first = layers[0] as Tensor;
    const weights = reshape(softmax(leaf(params, "weights"), 0), [this.layers, ...first.shape.map(() => 1)]);
    return mul(reduceSum(mul(stacked, weights), [0]), leaf(params, "gamma"));
  }
}

/**
 * The token-wise variant: each token gets its own softmax weights over the layers, from a learned
 * score of its representation in each layer, `s_l = h_l · v + b_l` (`vector [features]`, `bias
 * [L]`, zeros at first: an even mix), then `γ · Σ_l softmax_l(s)_l · h_l` per token.
 */
export class TokenScalarMix implements Module<readonly Tensor[], Tensor> {
  readonly parameters: ParameterTree;

  constructor(
    readonly layers: number,
    readonly features: number,
    options: { readonly dtype?: ParameterDType } = {},
  ) {
    if (!(Number.isInteger(layers) && layers >= 1))
      throw new HeadsError("TokenScalarMix", "layers", "a positive integer", String(layers));
    if (!(Number.isInteger(features) && features >= 1))
      throw new HeadsError("TokenScalarMix", "features", "a positive integer", String(features));
    const dtype = options.dtype ?? "float32";
    this.parameters = {
      vector: new Parameter([features, 1], { init: zeros, dtype, decay: false }),
      bias: new Parameter([layers], { init: zeros, dtype, decay: false }),
      gamma: new Parameter([1], { init: ones, dtype, decay: false }),
    };
  }

  /** The per-token mix of `layers` (each `[..., features]`), shaped as one of them. */
  forward(params: TensorTree, layers: readonly Tensor[]): Tensor {
    const stacked = checkLayers("TokenScalarMix.forward", layers, this.layers); // shape: [L, ..., features]
    const first = layers[0] as Tensor;
    const rest = first.shape.slice(0, -1).map(() => 1);
    const bias = reshape(leaf(params, "bias"), [this.layers, ...rest, 1]);
    const scores = add(matmul(stacked, leaf(params, "vector")), bias); // shape: [L, ..., 1]
    const weights = softmax(scores, 0);
    return mul(reduceSum(mul(stacked, weights), [0]), leaf(params, "gamma"));
  }
}
