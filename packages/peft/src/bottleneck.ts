import { add, matmul, mul, type Tensor } from "@xlt/graph";
import {
  Dropout,
  type ForwardContext,
  fanInUniform,
  HIDDEN_ACTIVATIONS,
  type Initializer,
  leaf,
  type Module,
  normal,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  silu,
  subtree,
  type TensorTree,
  zeros,
} from "@xlt/nn";

/** AdapterHub's `non_linearity` names (transformers' `get_activation`): `swish` is `silu`, `gelu` exact. */
export type AdapterNonLinearity = "relu" | "gelu" | "gelu_new" | "swish" | "silu" | "tanh";

/**
 * The functions behind {@link AdapterNonLinearity} (`@xlt/nn`'s: float64-accurate exact gelu, and
 * the `silu` form that onnxruntime does not fuse into its float32-only QuickGelu).
 */
export const NON_LINEARITIES: Readonly<Record<AdapterNonLinearity, (x: Tensor) => Tensor>> = {
  relu: HIDDEN_ACTIVATIONS.relu,
  gelu: HIDDEN_ACTIVATIONS.gelu,
  gelu_new: HIDDEN_ACTIVATIONS.gelu_new,
  swish: silu,
  silu,
  tanh: HIDDEN_ACTIVATIONS.tanh,
};

/**
 * AdapterHub's `init_weights`: `"bert"` N(0, 0.02²) weights (its default, also for invertible
 * adapters), `"mam_adapter"` torch's Linear default U(±1/√in) for `down` and zeros for `up` (the
 * adapter starts as the identity), `"houlsby"` N(0, 0.01²) truncated to ±0.02 for both; biases zero.
 */
export type AdapterInit = "bert" | "mam_adapter" | "houlsby";

/**
 * Python's `a // b` for positive floats, as AdapterHub sizes its layers (`int(hidden // reduction)`):
 * CPython divides `a - fmod(a, b)` by `b` and rounds that to the nearest integer, so `8 // 0.1` is 79
 * where `⌊8 / 0.1⌋` is 80.
 */
export function floorDivide(a: number, b: number): number {
  const quotient = (a - (a % b)) / b;
  const floor = Math.floor(quotient);
  return quotient - floor > 0.5 ? floor + 1 : floor;
}

/** N(0, std²) truncated to ±2 std (torch's `trunc_normal_(std=std, a=-2·std, b=2·std)`), by rejection. */
function truncatedNormal(std: number): Initializer {
  return (shape, random) =>
    Float64Array.from({ length: shape.reduce((product, dim) => product * dim, 1) }, () => {
      for (;;) {
        const z = random.normal();
        if (Math.abs(z) <= 2) return std * z;
      }
    });
}

function initializers(init: AdapterInit, inFeatures: number): [down: Initializer, up: Initializer] {
  switch (init) {
    case "bert":
      return [normal(0.02), normal(0.02)];
    case "mam_adapter":
      return [fanInUniform(inFeatures), zeros];
    case "houlsby":
      return [truncatedNormal(0.01), truncatedNormal(0.01)];
  }
}

/**
 * The parameters of `down: [in, size]`, `up: [size, out]` (with biases), initialised as `init` says.
 * Shared by the bottleneck blocks and the subnets of the invertible adapters.
 */
export function downUpParameters(
  inFeatures: number,
  size: number,
  outFeatures: number,
  init: AdapterInit,
  dtype: ParameterDType,
): ParameterTree {
  const [down, up] = initializers(init, inFeatures);
  return {
    down: {
      weight: new Parameter([inFeatures, size], { init: down, dtype }),
      bias: new Parameter([size], { init: zeros, decay: false, dtype }),
    },
    up: {
      weight: new Parameter([size, outFeatures], { init: up, dtype }),
      bias: new Parameter([outFeatures], { init: zeros, decay: false, dtype }),
    },
  };
}

/** `up(act(down(x)))` over a {@link downUpParameters} tree. */
export function downUp(params: TensorTree, x: Tensor, act: (x: Tensor) => Tensor): Tensor {
  const down = subtree(params, "down");
  const up = subtree(params, "up");
  const h = act(add(matmul(x, leaf(down, "weight")), leaf(down, "bias"))); // shape: [..., size]
  return add(matmul(h, leaf(up, "weight")), leaf(up, "bias"));
}

export interface BottleneckOptions {
  readonly init: AdapterInit;
  /** Dropout on the block's output (AdapterHub's `dropout`); 0 for none. */
  readonly dropout: number;
  /** Seed of the dropout masks. */
  readonly seed: number;
  readonly dtype: ParameterDType;
}

/**
 * AdapterHub's `Adapter` block without its residual: `dropout(up(act(down(x))) · scaling)` with
 * `down: [hidden, size]`, `up: [size, hidden]` (Houlsby et al. 2019; Pfeiffer et al. 2020). The
 * residual, and the transformer's own residual and LayerNorm around it, are the layer's business
 * (see `LayerAdapter`).
 */
export class Bottleneck implements Module {
  readonly parameters: ParameterTree;
  private readonly dropout: Dropout | undefined;

  /** `hidden` features in and out, `size` in the bottleneck. */
  constructor(
    readonly hidden: number,
    readonly size: number,
    readonly nonLinearity: AdapterNonLinearity,
    readonly scaling: number,
    options: BottleneckOptions,
  ) {
    this.parameters = downUpParameters(hidden, size, hidden, options.init, options.dtype);
    this.dropout = options.dropout > 0 ? new Dropout(options.dropout, options.seed) : undefined;
  }

  forward(params: TensorTree, x: Tensor, context: ForwardContext): Tensor {
    const out = downUp(params, x, NON_LINEARITIES[this.nonLinearity]); // shape: [..., hidden]
    const scaled = this.scaling === 1 ? out : mul(out, this.scaling);
    return this.dropout ? this.dropout.forward({}, scaled, context) : scaled;
  }
}
