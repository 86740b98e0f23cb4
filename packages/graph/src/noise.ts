import { add, cast, div, mul, scalarLike } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { apply1, type Primitive, type Tensor } from "./graph.js";

// Positions 0..n-1 of x's elements, shaped like x (int64): Shape, ReduceProd, Range, Reshape.
const IndexLike: Primitive<null> = {
  name: "IndexLike",
  infer: ([x]) => [{ dtype: "int64", shape: (x as Tensor).shape }],
  emit: (context, [x], outputs) => {
    const shape = context.fresh("shape");
    const count = context.fresh("count");
    const range = context.fresh("range");
    const zero = context.fresh("zero");
    const one = context.fresh("one");
    context.node("Shape", [x as string], [shape]);
    context.node("ReduceProd", [shape, context.int64([0])], [count], { keepdims: { int: 0 } });
    context.node("Squeeze", [context.int64([0])], [zero]);
    context.node("Squeeze", [context.int64([1])], [one]);
    context.node("Range", [zero, count, one], [range]);
    context.node("Reshape", [range, shape], outputs);
  },
  vjp: () => [null],
};

const Mod: Primitive<null> = {
  name: "Mod",
  infer: ([a]) => [{ dtype: "int64", shape: (a as Tensor).shape }],
  emit: (context, inputs, outputs) => context.node("Mod", inputs, outputs, { fmod: { int: 0 } }),
};

/** The Mersenne prime 2³¹ - 1: products of two residues stay below 2⁶² in int64. */
const PRIME = 2147483647;

/**
 * Uniform [0, 1) noise shaped like `x`, a pure function of `seed`, the int64 scalar `key` (the
 * optimizer step, say) and each element's position: hashed in-graph by three rounds of
 * `h ← (h² + c) mod (2³¹ - 1)` in int64. Unlike `RandomUniformLike`, whose stream restarts with every
 * session, the same (seed, key) gives the same noise in any session, so runs resume exactly.
 */
export function hashUniformLike(x: Tensor, seed: number, key: Tensor): Tensor {
  if (key.dtype !== "int64" || key.rank !== 0)
    throw new GraphError("hashUniformLike", "key", "an int64 scalar", `${key.dtype}[${key.shape.join(",")}]`);
  if (!Number.isInteger(seed) || seed < 0 || seed >= PRIME)
    throw new GraphError("hashUniformLike", "seed", `an integer in [0, ${PRIME})`, String(seed));
  const modulo = (value: Tensor) => apply1(Mod, [value, scalarLike(PRIME, value)], null);
  const position = apply1(IndexLike, [x], null);
  // Keys and positions below 2³¹ keep every product below 2⁶³.
  let h = modulo(add(add(modulo(position), mul(modulo(key), 69069)), seed));
  for (const c of [12345, 1013904223, 362436069]) h = modulo(add(mul(h, h), c));
  return cast(div(cast(h, "float64"), PRIME), x.dtype);
}
