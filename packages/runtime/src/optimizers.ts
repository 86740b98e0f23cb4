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
}

/**
 * Appends one optimizer update for parameter `p` with gradient `g` and state `state` (by slot);
 * returns the new parameter and state. Scalars are float64 and cast to the parameter's dtype.
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
  if (options.kind === "sgd") {
    const grad = decay ? add(g, mul(decay, p)) : g;
    const momentum = options.momentum ?? 0;
    if (momentum === 0) return { param: sub(p, mul(lr, grad)), state: {} };
    const buffer = add(mul(state.momentum as Tensor, momentum), grad);
    return { param: sub(p, mul(lr, buffer)), state: { momentum: buffer } };
  }
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const epsilon = options.epsilon ?? 1e-8;
  let param = p;
  let grad = g;
  if (decay && options.kind === "adamw") param = mul(p, sub(1, mul(lr, decay)));
  if (decay && options.kind === "adam") grad = add(g, mul(decay, p));
  const m = add(mul(state.m as Tensor, beta1), mul(grad, 1 - beta1)); // shape: p.shape
  const v = add(mul(state.v as Tensor, beta2), mul(mul(grad, grad), 1 - beta2));
  // Bias corrections 1 - β^t, computed in float64 from the step input.
  const correction1 = like(sub(1, exp(mul(scalars.step, Math.log(beta1)))));
  const correction2 = like(sub(1, exp(mul(scalars.step, Math.log(beta2)))));
  const denominator = add(div(sqrt(v), sqrt(correction2)), epsilon);
  param = sub(param, div(mul(div(lr, correction1), m), denominator));
  return { param, state: { m, v } };
}
