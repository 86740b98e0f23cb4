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

/** murmur3's 32-bit finaliser, reduced below 2³¹ - 1: a seed's neighbours get unrelated values. */
function mixSeed(seed: number): number {
  let h = seed >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % PRIME;
}

/**
 * Uniform [0, 1) noise shaped like `x`, a pure function of `seed`, the int64 scalar `key` (the
 * optimizer step, say) and each element's position, hashed in-graph in int64 modulo 2³¹ - 1. The
 * seed (mixed by murmur3's finaliser) and the key are first mixed into a multiplier
 * `m ∈ [1, 2³¹ - 1)` by two rounds of `k ← (k² + c) mod (2³¹ - 1)`; each position `i` then starts
 * at `(i + 1)·m` and goes through three more such rounds. Neighbouring seeds or keys thus give
 * unrelated multipliers, and their noise is no shifted copy of each other's. Unlike
 * `RandomUniformLike`, whose stream restarts with every session, the same (seed, key) gives the
 * same noise in any session, so runs resume exactly.
 */
export function hashUniformLike(x: Tensor, seed: number, key: Tensor): Tensor {
  if (key.dtype !== "int64" || key.rank !== 0)
    throw new GraphError("hashUniformLike", "key", "an int64 scalar", `${key.dtype}[${key.shape.join(",")}]`);
  if (!Number.isInteger(seed) || seed < 0 || seed >= PRIME)
    throw new GraphError("hashUniformLike", "seed", `an integer in [0, ${PRIME})`, String(seed));
  const modulo = (value: Tensor) => apply1(Mod, [value, scalarLike(PRIME, value)], null);
  const square = (value: Tensor, c: number) => modulo(add(mul(value, value), c));
  // Residues below 2³¹ keep every sum and product below 2⁶³.
  let k = modulo(add(modulo(key), mixSeed(seed)));
  for (const c of [1442695041, 1597334677]) k = square(k, c);
  const multiplier = add(apply1(Mod, [k, scalarLike(PRIME - 1, k)], null), 1);
  const position = add(modulo(apply1(IndexLike, [x], null)), 1);
  let h = modulo(mul(position, multiplier));
  for (const c of [12345, 1013904223, 362436069]) h = square(h, c);
  return cast(div(cast(h, "float64"), PRIME), x.dtype);
}
