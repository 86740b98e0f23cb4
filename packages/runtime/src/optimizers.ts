import { add, cast, div, exp, mul, sqrt, sub, type Tensor } from "@xlt/graph";
import { RuntimeError } from "./errors.js";

/** SGD with momentum as torch's `optim.SGD` (L2 weight decay added to the gradient, no dampening). */
export interface SgdOptions {
  readonly kind: "sgd";
  readonly momentum?: number;
}

/** Adam (Kingma & Ba 2015) with bias correction; weight decay as L2 in the gradient, as torch's `optim.Adam`. */
export interface AdamOptions {
  readonly kind: "adam" | "adamw";
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/** The optimizer: `adamw` decouples weight decay (Loshchilov & Hutter 2019), as torch's `optim.AdamW`. */
export type OptimizerOptions = SgdOptions | AdamOptions;

/** Names of the per-parameter state tensors an optimizer keeps. */
export function stateSlots(options: OptimizerOptions): readonly string[] {
  if (options.kind === "sgd") return (options.momentum ?? 0) > 0 ? ["momentum"] : [];
  return ["m", "v"];
}

export function validateOptimizer(options: OptimizerOptions): void {
  const fn = "compile";
  const unit = (name: string, value: number | undefined) => {
    if (value !== undefined && !(value >= 0 && value < 1))
      throw new RuntimeError(fn, `optimizer.${name}`, "a number in [0, 1)", String(value));
  };
  if (options.kind === "sgd") unit("momentum", options.momentum);
  else if (options.kind === "adam" || options.kind === "adamw") {
    unit("beta1", options.beta1);
    unit("beta2", options.beta2);
    if (options.epsilon !== undefined && !(options.epsilon > 0))
      throw new RuntimeError(fn, "optimizer.epsilon", "a number > 0", String(options.epsilon));
  } else throw new RuntimeError(fn, "optimizer.kind", '"sgd", "adam" or "adamw"', JSON.stringify(options));
}

/** Graph scalars of one update: learning rate, weight decay (0 when the parameter does not decay), step (1-based). */
export interface UpdateScalars {
  readonly lr: Tensor;
  readonly weightDecay: Tensor | null;
  readonly step: Tensor;
  /** The clipping factor the raw gradient is to be multiplied by (float64 scalar), if any. */
  readonly gradScale?: Tensor | null;
  /** `g · g` of the raw gradient when already computed (for the global norm): reused by Adam. */
  readonly gradSquared?: Tensor | null;
}

/**
 * Appends one optimizer update for parameter `p` with raw gradient `g` and state `state` (by slot);
 * returns the new parameter and state. Scalars are float64 and cast to the parameter's dtype. The
 * clipping factor is folded into scalar multipliers, so clipping costs no pass over the gradient.
 */
export function update(
  options: OptimizerOptions,
  p: Tensor,
  g: Tensor,
  state: Readonly<Record<string, Tensor>>,
  scalars: UpdateScalars,
): { param: Tensor; state: Record<string, Tensor> } {
  const like = (value: Tensor) => cast(value, p.dtype);
  const lr = like(scalars.lr);
  const decay = scalars.weightDecay ? like(scalars.weightDecay) : null;
  const scale = scalars.gradScale ? like(scalars.gradScale) : null;
  /** `g · scale · factor` with the scalars multiplied first. */
  const scaled = (factor: number) => (scale ? mul(g, mul(scale, factor)) : factor === 1 ? g : mul(g, factor));
  if (options.kind === "sgd") {
    const grad = decay ? add(scaled(1), mul(decay, p)) : scaled(1);
    const momentum = options.momentum ?? 0;
    if (momentum === 0) return { param: sub(p, mul(lr, grad)), state: {} };
    const buffer = add(mul(state.momentum as Tensor, momentum), grad);
    return { param: sub(p, mul(lr, buffer)), state: { momentum: buffer } };
  }
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const epsilon = options.epsilon ?? 1e-8;
  let param = p;
  let m: Tensor;
  let v: Tensor;
  if (decay && options.kind === "adam") {
    // L2 in the gradient (torch's Adam): the decayed gradient is needed whole.
    const grad = add(scaled(1), mul(decay, p));
    m = add(mul(state.m as Tensor, beta1), mul(grad, 1 - beta1)); // shape: p.shape
    v = add(mul(state.v as Tensor, beta2), mul(mul(grad, grad), 1 - beta2));
  } else {
    if (decay) param = mul(p, sub(1, mul(lr, decay)));
    m = add(mul(state.m as Tensor, beta1), scaled(1 - beta1));
    const squared = scalars.gradSquared ?? mul(g, g);
    const factor = scale ? mul(mul(scale, scale), 1 - beta2) : null;
    v = add(mul(state.v as Tensor, beta2), factor ? mul(squared, factor) : mul(squared, 1 - beta2));
  }
  // Bias corrections 1 - β^t, computed in float64 from the step input.
  const correction1 = like(sub(1, exp(mul(scalars.step, Math.log(beta1)))));
  const correction2 = like(sub(1, exp(mul(scalars.step, Math.log(beta2)))));
  const denominator = add(div(sqrt(v), sqrt(correction2)), epsilon);
  param = sub(param, div(mul(div(lr, correction1), m), denominator));
  return { param, state: { m, v } };
}
