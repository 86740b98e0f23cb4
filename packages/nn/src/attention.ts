import {
  add,
  and,
  apply1,
  type Dim,
  dropout,
  gather,
  greater,
  matmul,
  mul,
  not,
  type Primitive,
  reshape,
  shapeOf,
  softmax,
  sub,
  type Tensor,
  transpose,
  transposeLast,
  unsqueeze,
  where,
} from "@xlt/graph";
import { NnError } from "./errors.js";
import type { ForwardContext } from "./layers.js";

/**
 * The score a masked key gets in place of `q·k·scale`: finite, so a query row whose keys are all
 * masked gets a uniform (finite) softmax instead of NaN, and small enough that `exp` of it next to
 * any real score is exactly 0 in float32 and float64.
 */
export const MASKED_SCORE = -1e9;

export interface AttentionOptions {
  /** bool [batch, keys]: true for real tokens (padding keys get no attention). */
  readonly mask?: Tensor;
  /** Each query attends only to keys at positions ≤ its own (queries are the last `Tq` of `Tk` positions). */
  readonly causal?: boolean;
  /** Default 1/√headDim. */
  readonly scale?: number;
  /** Dropout on the attention probabilities, keyed like @xlt/graph's dropout. */
  readonly dropout?: { readonly rate: number; readonly seed: number; readonly context: ForwardContext };
}

function staticDim(fn: string, argument: string, x: Tensor, axis: number): number {
  const dim = x.shape[axis];
  if (typeof dim !== "number")
    throw new NnError(fn, argument, `a fixed size on axis ${axis}`, `[${x.shape.join(",")}]`);
  return dim;
}

function rank(fn: string, argument: string, x: Tensor, expected: number): void {
  if (x.rank !== expected)
    throw new NnError(fn, argument, `a tensor of rank ${expected}`, `[${x.shape.join(",")}]`);
}

// ONNX Range over one entry of a shape vector: int64 `0 … shape[axis] - 1`.
const Range: Primitive<{ readonly axis: number; readonly dim: Dim }> = {
  name: "Range",
  infer: (_, { dim }) => [{ dtype: "int64", shape: [dim] }],
  emit: (context, [shape], outputs, { axis }) => {
    const index = context.fresh("axis");
    const count = context.fresh("count");
    const zero = context.fresh("zero");
    const one = context.fresh("one");
    context.node("Squeeze", [context.int64([axis])], [index]);
    context.node("Gather", [shape as string, index], [count], { axis: { int: 0 } });
    context.node("Squeeze", [context.int64([0])], [zero]);
    context.node("Squeeze", [context.int64([1])], [one]);
    context.node("Range", [zero, count, one], outputs);
  },
};

/**
 * int64 positions `0 … n-1` of `x`'s axis `axis` (`[n]`): a constant when the axis has a fixed size,
 * else an ONNX Range over the run-time size.
 */
export function positionsAlong(x: Tensor, axis: number): Tensor {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.rank)
    throw new NnError("positionsAlong", "axis", `an axis in [0, ${x.rank})`, String(axis));
  const dim = x.shape[axis] as Dim;
  if (typeof dim === "number")
    return x.graph.constant(
      BigInt64Array.from({ length: dim }, (_, index) => BigInt(index)),
      [dim],
    );
  return apply1(Range, [shapeOf(x)], { axis, dim });
}

/** bool [Tq, Tk]: key `j` is visible from query `i` when `j ≤ i + (Tk - Tq)`. */
function causalKeep(q: Tensor, k: Tensor): Tensor {
  const queries = positionsAlong(q, 2); // shape: [Tq]
  const keys = positionsAlong(k, 2); // shape: [Tk]
  const axis = k.graph.constant(BigInt64Array.of(2n), []);
  const offset = sub(gather(shapeOf(k), axis), gather(shapeOf(q), axis)); // shape: [] (Tk - Tq)
  return not(greater(unsqueeze(keys, [0]), unsqueeze(add(queries, offset), [1])));
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017): `softmax(q·kᵀ·scale + masks)·v`.
 * q [B, H, Tq, d], k and v [B, Hkv, Tk, d] with H a multiple of Hkv (grouped-query attention: each kv
 * head serves H/Hkv consecutive query heads, as Hugging Face's `repeat_kv`) → [B, H, Tq, d].
 * Masked scores are replaced by {@link MASKED_SCORE}, so fully masked rows stay finite.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor {
  const fn = "scaledDotProductAttention";
  rank(fn, "q", q, 4);
  rank(fn, "k", k, 4);
  rank(fn, "v", v, 4);
  const heads = staticDim(fn, "q", q, 1);
  const kvHeads = staticDim(fn, "k", k, 1);
  const headDim = staticDim(fn, "q", q, 3);
  if (heads % kvHeads !== 0) throw new NnError(fn, "k", `a head count dividing ${heads}`, String(kvHeads));
  if (staticDim(fn, "v", v, 1) !== kvHeads)
    throw new NnError(fn, "v", `${kvHeads} heads as k`, String(v.shape[1]));
  if (staticDim(fn, "k", k, 3) !== headDim)
    throw new NnError(fn, "k", `head size ${headDim} as q`, String(k.shape[3]));
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  if (!Number.isFinite(scale)) throw new NnError(fn, "scale", "a finite number", String(scale));
  const group = heads / kvHeads;
  // With groups, queries are [B, Hkv, g, Tq, d] against keys [B, Hkv, 1, Tk, d]: MatMul broadcasts.
  const queries = group === 1 ? q : reshape(q, [0, kvHeads, group, -1, headDim]);
  const keys = group === 1 ? k : unsqueeze(k, [2]);
  const values = group === 1 ? v : unsqueeze(v, [2]);
  // onnxruntime fuses a MatMul scaled by a one-element constant into FusedMatMul, whose `alpha` is a
  // float32 attribute: 1/√d would lose float64 precision (about 1e-8). A float64 model scales its
  // queries by a [d] vector instead, which is not fused.
  const scaled =
    q.dtype === "float64" && headDim > 1
      ? mul(queries, q.graph.constant(new Float64Array(headDim).fill(scale), [headDim]))
      : null;
  const scores = scaled
    ? matmul(scaled, transposeLast(keys))
    : mul(matmul(queries, transposeLast(keys)), scale); // shape: [B, (Hkv, g | H), Tq, Tk]
  let keep: Tensor | null = null;
  if (options.mask) {
    const mask = options.mask;
    if (mask.dtype !== "bool" || mask.rank !== 2)
      throw new NnError(
        fn,
        "options.mask",
        "a bool tensor [batch, keys]",
        `${mask.dtype}[${mask.shape.join(",")}]`,
      );
    const axes = group === 1 ? [1, 2] : [1, 2, 3];
    keep = unsqueeze(mask, axes); // shape: [B, 1, (1,) 1, Tk]
  }
  if (options.causal) {
    const triangle = causalKeep(q, k); // shape: [Tq, Tk]
    keep = keep ? and(keep, triangle) : triangle;
  }
  const masked = keep ? where(keep, scores, MASKED_SCORE) : scores;
  let probabilities = softmax(masked, -1);
  if (options.dropout) {
    const { rate, seed, context } = options.dropout;
    probabilities = dropout(probabilities, rate, seed, context.training, context.key);
  }
  const out = matmul(probabilities, values); // shape: [B, (Hkv, g | H), Tq, d]
  return group === 1 ? out : reshape(out, [0, heads, -1, headDim]);
}

/** [B, T, H·d] → [B, H, T, d]. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  rank("splitHeads", "x", x, 3);
  const width = staticDim("splitHeads", "x", x, 2);
  if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0)
    throw new NnError("splitHeads", "heads", `a positive divisor of ${width}`, String(heads));
  return transpose(reshape(x, [0, 0, heads, width / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, d] → [B, T, H·d]. */
export function mergeHeads(x: Tensor): Tensor {
  rank("mergeHeads", "x", x, 4);
  const width = staticDim("mergeHeads", "x", x, 1) * staticDim("mergeHeads", "x", x, 3);
  return reshape(transpose(x, [0, 2, 1, 3]), [0, 0, width]);
}
