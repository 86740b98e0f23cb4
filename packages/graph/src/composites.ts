import type { DType } from "./dtype.js";
import {
  add,
  cast,
  div,
  equal,
  erf,
  exp,
  greater,
  less,
  log,
  mul,
  neg,
  not,
  randomUniformLike,
  scalarLike,
  sqrt,
  stopGradient,
  sub,
  tanh,
  where,
} from "./elementwise.js";
import { GraphError } from "./errors.js";
import type { Tensor } from "./graph.js";
import { gather } from "./indexing.js";
import { hashDropoutMask } from "./noise.js";
import { normaliseAxis } from "./shape.js";
import { reduceMax, reduceSum, shapeOf, squeeze, unsqueeze } from "./structural.js";

// Composite ops: built from primitives only, so they need no gradient rule of their own.

/** `max(x, 0)`. */
export function relu(x: Tensor): Tensor {
  return where(greater(x, 0), x, 0);
}

/** Exact GELU: `x · Φ(x) = x/2 · (1 + erf(x/√2))`. */
export function gelu(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/** Tanh-approximated GELU (Hendrycks & Gimpel 2016): `x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))`. */
export function geluTanh(x: Tensor): Tensor {
  const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(x, 0.5), add(tanh(inner), 1));
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  const list = axes ?? x.shape.map((_, index) => index);
  const summed = reduceSum(x, list, keepdims);
  return div(summed, count(x, list));
}

/** Number of elements over `axes`, as a scalar of `x`'s dtype; symbolic dims are read at run time. */
export function count(x: Tensor, axes: readonly number[]): Tensor {
  let known = 1;
  let product: Tensor | null = null;
  for (const axis of axes.map((a) => normaliseAxis("count", a, x.rank))) {
    const dim = x.shape[axis];
    if (typeof dim === "number") {
      known *= dim;
      continue;
    }
    const size = cast(gather(shapeOf(x), x.graph.constant(BigInt64Array.of(BigInt(axis)), [])), x.dtype);
    product = product ? mul(product, size) : size;
  }
  return product ? mul(product, known) : scalarLike(known, x);
}

/** `log Σ exp(x)` over `axes`, stabilised by the (gradient-free) maximum. */
export function logSumExp(x: Tensor, axes: readonly number[], keepdims = false): Tensor {
  const m = stopGradient(reduceMax(x, axes, true));
  const summed = log(reduceSum(exp(sub(x, m)), axes, true));
  const result = add(summed, m);
  return keepdims
    ? result
    : squeeze(
        result,
        axes.map((a) => normaliseAxis("logSumExp", a, x.rank)),
      );
}

/** Softmax along `axis`. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const e = exp(sub(x, stopGradient(reduceMax(x, [axis], true))));
  return div(e, reduceSum(e, [axis], true));
}

/** Log-softmax along `axis`: `x - logSumExp(x)`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return sub(x, logSumExp(x, [axis], true));
}

/**
 * Layer normalisation over the last axis (Ba et al. 2016): `(x - μ) / √(σ² + ε) · γ + β`, with the
 * biased variance as torch computes it.
 */
export function layerNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon = 1e-5): Tensor {
  const centred = sub(x, mean(x, [-1], true)); // shape: x.shape
  const variance = mean(mul(centred, centred), [-1], true); // shape: [..., 1]
  let y = div(centred, sqrt(add(variance, epsilon)));
  if (gamma) y = mul(y, gamma);
  if (beta) y = add(y, beta);
  return y;
}

/** One-hot encoding of int64 `indices` over `depth` classes, as `dtype`: `[...indices.shape, depth]`. */
export function oneHot(indices: Tensor, depth: number, dtype: DType = "float32"): Tensor {
  if (indices.dtype !== "int64") throw new GraphError("oneHot", "indices", "an int64 tensor", indices.dtype);
  if (!Number.isInteger(depth) || depth < 1)
    throw new GraphError("oneHot", "depth", "a positive integer", String(depth));
  const classes = indices.graph.constant(
    BigInt64Array.from({ length: depth }, (_, index) => BigInt(index)),
    [depth],
  );
  return cast(equal(unsqueeze(indices, [-1]), classes), dtype);
}

/**
 * Mean cross-entropy of `logits` `[..., classes]` against int64 `labels` `[...]`; positions whose
 * label equals `ignoreIndex` count neither in the sum nor in the mean (as torch's
 * `cross_entropy(..., ignore_index)`). An all-ignored batch gives 0.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
  const classes = logits.shape[logits.rank - 1];
  if (typeof classes !== "number")
    throw new GraphError("crossEntropy", "logits", "a fixed number of classes", String(classes));
  const logp = logSoftmax(logits, -1); // shape: [..., classes]
  const keep = cast(not(equal(labels, ignoreIndex)), logits.dtype); // shape: [...]
  const picked = reduceSum(mul(logp, oneHot(labels, classes, logits.dtype)), [-1]); // shape: [...]
  const total = neg(reduceSum(mul(picked, keep)));
  const kept = reduceSum(keep);
  return div(total, where(greater(kept, 0), kept, 1));
}

/**
 * Inverted dropout: zeroes each value with probability `rate` and scales the rest by `1/(1-rate)`.
 * With an int64 scalar `key` (the optimizer step) the mask is `hashUniformLike(x, seed, key)`: the
 * same in every session for the same key, so resumed runs repeat their masks exactly. Without one it
 * comes from `RandomUniformLike` with a fixed seed (a new mask per run, restarting with each
 * session). Identity when `training` is false or `rate` is 0.
 */
export function dropout(x: Tensor, rate: number, seed: number, training = true, key?: Tensor): Tensor {
  if (!(rate >= 0 && rate < 1)) throw new GraphError("dropout", "rate", "a number in [0, 1)", String(rate));
  if (!training || rate === 0) return x;
  if (key) return mul(x, hashDropoutMask(x, rate, seed, key));
  const keep = cast(not(less(randomUniformLike(x, seed), rate)), x.dtype);
  return mul(x, mul(keep, 1 / (1 - rate)));
}
