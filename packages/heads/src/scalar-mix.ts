import { add, matmul, mul, slice, softmax, type Tensor } from "@xlt/graph";
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
import { joinLast } from "./join.js";

function checkLayers(fn: string, layers: readonly Tensor[], count: number): void {
  if (layers.length !== count) throw new HeadsError(fn, "layers", `${count} tensors`, String(layers.length));
}

/** `Σ_l layers[l] · weight(l)`. */
function weightedSum(layers: readonly Tensor[], weight: (l: number) => Tensor): Tensor {
  let sum: Tensor | undefined;
  for (const [l, layer] of layers.entries()) {
    const term = mul(layer, weight(l));
    sum = sum ? add(sum, term) : term;
  }
  return sum as Tensor;
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
    checkLayers("ScalarMix.forward", layers, this.layers);
    const weights = softmax(leaf(params, "weights"), 0); // shape: [L]
    return mul(
      weightedSum(layers, (l) => slice(weights, 0, l, l + 1)),
      leaf(params, "gamma"),
    );
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
    checkLayers("TokenScalarMix.forward", layers, this.layers);
    const bias = leaf(params, "bias");
    const vector = leaf(params, "vector");
    const scores = layers.map((h, l) => add(matmul(h, vector), slice(bias, 0, l, l + 1))); // shape of each: [..., 1]
    const weights = softmax(joinLast(scores), -1); // shape: [..., L]
    // Column l of the weights by a MatMul with a one-hot column, not a Slice (see joinLast).
    const L = this.layers;
    const column = (l: number) => {
      const unit = new (vector.dtype === "float64" ? Float64Array : Float32Array)(L);
      unit[l] = 1;
      return matmul(weights, vector.graph.constant(unit, [L, 1])); // shape: [..., 1]
    };
    return mul(weightedSum(layers, column), leaf(params, "gamma"));
  }
}
