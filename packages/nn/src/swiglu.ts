import { add, mul, type Tensor, tanh } from "@xlt/graph";
import { parametersOf } from "./decoder.js";
import { NnError } from "./errors.js";
import { type ForwardContext, Linear, type Module } from "./layers.js";
import { type ParameterDType, type ParameterTree, subtree, type TensorTree } from "./parameters.js";

/**
 * `x · sigmoid(x)` (SiLU, Elfwing et al. 2018), written `h + h·tanh(h)` with `h = x/2`: the same
 * function, in a form onnxruntime does not fuse into its float32-only QuickGelu kernel.
 */
export function silu(x: Tensor): Tensor {
  const half = mul(x, 0.5);
  return add(half, mul(half, tanh(half)));
}

/** The projections of a {@link SwiGlu}; swappable (for LoRA, say) under the same keys. */
export interface SwiGluModules {
  gate_proj: Module;
  up_proj: Module;
  down_proj: Module;
}

/**
 * The gated MLP of Llama (Shazeer 2020, "GLU Variants Improve Transformer"):
 * `down(silu(gate(x)) · up(x))`, three bias-free `Linear`s `hidden → inner → hidden`.
 */
export class SwiGlu implements Module {
  readonly modules: SwiGluModules;

  constructor(hidden: number, inner: number, options: { readonly dtype?: ParameterDType } = {}) {
    if (!Number.isInteger(inner) || inner < 1)
      throw new NnError("SwiGlu", "inner", "a positive integer", String(inner));
    const linear = (from: number, to: number) =>
      new Linear(from, to, { bias: false, dtype: options.dtype ?? "float32" });
    this.modules = {
      gate_proj: linear(hidden, inner),
      up_proj: linear(hidden, inner),
      down_proj: linear(inner, hidden),
    };
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  /** `x: [..., hidden]` to `[..., hidden]`. */
  forward(params: TensorTree, x: Tensor, context: ForwardContext): Tensor {
    const { gate_proj, up_proj, down_proj } = this.modules;
    const gate = silu(gate_proj.forward(subtree(params, "gate_proj"), x, context)); // shape: [..., inner]
    const up = up_proj.forward(subtree(params, "up_proj"), x, context); // shape: [..., inner]
    return down_proj.forward(subtree(params, "down_proj"), mul(gate, up), context);
  }
}
