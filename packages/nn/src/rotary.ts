import {
  add,
  apply1,
  cast,
  concat,
  mul,
  neg,
  type Primitive,
  slice,
  type Tensor,
  unsqueeze,
} from "@xlt/graph";
import { NnError } from "./errors.js";

type Trigonometric = "Sin" | "Cos";

// ONNX Sin/Cos; d sin = cos, d cos = -sin.
const Trig: Primitive<Trigonometric> = {
  name: "Trig",
  infer: ([x], op) => {
    const input = x as Tensor;
    if (input.dtype !== "float32" && input.dtype !== "float64")
      throw new NnError(op === "Sin" ? "sin" : "cos", "x", "a float32 or float64 tensor", input.dtype);
    return [{ dtype: input.dtype, shape: input.shape }];
  },
  emit: (context, inputs, outputs, op) => context.node(op, inputs, outputs),
  vjp: ({ dy, inputs: [x], attrs }) => {
    const g = dy[0] as Tensor;
    const input = x as Tensor;
    return [attrs === "Sin" ? mul(g, cos(input)) : neg(mul(g, sin(input)))];
  },
};

/** Elementwise sine. */
export const sin = (x: Tensor): Tensor => apply1(Trig, [x], "Sin");
/** Elementwise cosine. */
export const cos = (x: Tensor): Tensor => apply1(Trig, [x], "Cos");

/** Llama's inverse frequencies `θ^(-2i/d)` for `i = 0 … d/2 - 1` (computed in float64). */
export function rotaryFrequencies(headDim: number, theta: number): Float64Array {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0)
    throw new NnError("rotaryFrequencies", "headDim", "an even integer >= 2", String(headDim));
  if (!(theta > 0 && Number.isFinite(theta)))
    throw new NnError("rotaryFrequencies", "theta", "a finite number > 0", String(theta));
  return Float64Array.from({ length: headDim / 2 }, (_, i) => theta ** (-(2 * i) / headDim));
}

/** `[-x₂, x₁]` of `x = [x₁, x₂]` split in halves along the last axis (HF's `rotate_half`). */
export function rotateHalf(x: Tensor): Tensor {
  const d = x.shape[x.rank - 1];
  if (typeof d !== "number" || d % 2 !== 0)
    throw new NnError("rotateHalf", "x", "a last axis of even, fixed size", String(d));
  return concat([neg(slice(x, -1, d / 2)), slice(x, -1, 0, d / 2)], -1);
}

/** `cos` and `sin` tables `[batch, 1, steps, d]` of rotary embeddings at int64 `positions [batch, steps]`. */
export interface RotaryTables {
  readonly cos: Tensor;
  readonly sin: Tensor;
}

/**
 * The rotary tables (Su et al. 2021, RoFormer) of HF's Llama: angles `p · θ^(-2i/d)` for each
 * position `p` and frequency `i`, repeated once (`cat(freqs, freqs)`), as cos and sin of `dtype`,
 * broadcastable over heads. Computed in float64 whatever `dtype` (HF computes them in float32).
 */
export function rotaryTables(
  positions: Tensor,
  headDim: number,
  theta: number,
  dtype: "float32" | "float64",
): RotaryTables {
  if (positions.dtype !== "int64" || positions.rank !== 2)
    throw new NnError(
      "rotaryTables",
      "positions",
      "an int64 tensor [batch, steps]",
      `${positions.dtype} [${positions.shape.join(",")}]`,
    );
  const frequencies = rotaryFrequencies(headDim, theta);
  const both = positions.graph.constant(Float64Array.from([...frequencies, ...frequencies]), [headDim]);
  const angles = mul(unsqueeze(cast(positions, "float64"), [1, 3]), both); // shape: [batch, 1, steps, d]
  return { cos: cast(cos(angles), dtype), sin: cast(sin(angles), dtype) };
}

/** `x·cos + rotate_half(x)·sin` for `x: [batch, heads, steps, d]` (HF's `apply_rotary_pos_emb`). */
export function applyRotary(x: Tensor, tables: RotaryTables): Tensor {
  return add(mul(x, tables.cos), mul(rotateHalf(x), tables.sin));
}
