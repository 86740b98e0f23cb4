import { add, div, mean, mul, sqrt, type Tensor } from "@xlt/graph";
import { NnError } from "./errors.js";
import { ones } from "./init.js";
import type { Module } from "./layers.js";
import { leaf, Parameter, type ParameterDType, type ParameterTree, type TensorTree } from "./parameters.js";

/**
 * Root-mean-square normalisation over the last axis (Zhang & Sennrich 2019), as Llama's
 * `LlamaRMSNorm`: `x / √(mean(x²) + ε) · γ`, with a gain `γ` (ones, no weight decay) and no bias or
 * centring.
 */
export class RmsNorm implements Module {
  readonly parameters: ParameterTree;

  constructor(
    readonly dim: number,
    readonly epsilon = 1e-6,
    options: { readonly dtype?: ParameterDType } = {},
  ) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new NnError("RmsNorm", "dim", "a positive integer", String(dim));
    if (!(epsilon > 0 && Number.isFinite(epsilon)))
      throw new NnError("RmsNorm", "epsilon", "a finite number > 0", String(epsilon));
    this.parameters = {
      weight: new Parameter([dim], { init: ones, decay: false, dtype: options.dtype ?? "float32" }),
    };
  }

  /** `x: [..., dim]` to the same shape. */
  forward(params: TensorTree, x: Tensor): Tensor {
    const meanSquare = mean(mul(x, x), [-1], true); // shape: [..., 1]
    return mul(div(x, sqrt(add(meanSquare, this.epsilon))), leaf(params, "weight"));
  }
}
