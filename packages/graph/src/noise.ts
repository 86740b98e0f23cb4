import type { DType } from "./dtype.js";
import { add, cast, div, less, mul, scalarLike, where } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { apply1, type Primitive, type Tensor } from "./graph.js";

// Positions 1..n of x's elements, shaped like x (int64): Shape, ReduceProd, Range, Reshape.
const PositionLike: Primitive<null> = {
  name: "PositionLike",
  infer: ([x]) => [{ dtype: "int64", shape: (x as Tensor).shape }],
  emit: (context, [x], outputs) => {
    const shape = context.fresh("shape");
    const count = context.fresh("count");
    const limit = context.fresh("limit");
    const range = context.fresh("range");
    const one = context.fresh("one");
    context.node("Shape", [x as string], [shape]);
    context.node("ReduceProd", [shape, context.int64([0])], [count], { keepdims: { int: 0 } });
    context.node("Squeeze", [context.int64([1])], [one]);
    context.node("Add", [count, one], [limit]);
    context.node("Range", [one, limit, one], [range]);
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

/** The integer hash `h ∈ [0, 2³¹ - 1)` of each element of `x` behind `hashUniformLike` (int64). */
function hashBitsLike(fn: string, x: Tensor, seed: number, key: Tensor): Tensor {
  if (key.dtype !== "int64" || key.rank !== 0)
    throw new GraphError(fn, "key", "an int64 scalar", `${key.dtype}[${key.shape.join(",")}]`);
  if (!Number.isInteger(seed) || seed < 0 || seed >= PRIME)
    throw new GraphError(fn, "seed", `an integer in [0, ${PRIME})`, String(seed));
  const modulo = (value: Tensor) => apply1(Mod, [value, scalarLike(PRIME, value)], null);
  const square = (value: Tensor, c: number) => modulo(add(mul(value, value), c));
  // Residues below 2³¹ keep every sum and product below 2⁶³.
  let k = modulo(add(modulo(key), mixSeed(seed)));
  for (const c of [1442695041, 1597334677]) k = square(k, c);
  const multiplier = add(apply1(Mod, [k, scalarLike(PRIME - 1, k)], null), 1);
  // Positions 1..n need no reduction before the product: below 2³² (any tensor of fewer than 2³²
  // elements) times a multiplier below 2³¹ stays below 2⁶³, and ((i mod p)·m) mod p = (i·m) mod p.
  let h = modulo(mul(apply1(PositionLike, [x], null), multiplier));
  for (const c of [12345, 1013904223, 362436069]) h = square(h, c);
  return h;
}

/**
 * Uniform [0, 1) noise shaped like `x`, a pure function of `seed`, the int64 scalar `key` (the
 * optimizer step, say) and each element's position, hashed in-graph in int64 modulo 2³¹ - 1. The
 * seed (mixed by murmur3's finaliser) and the key are first mixed into a multiplier
 * `m ∈ [1, 2³¹ - 1)` by two rounds of `k ← (k² + c) mod (2³¹ - 1)`; each position `i` then starts
 * at `(i + 1)·m` and goes through three more such rounds. Neighbouring seeds or keys thus give
 * unrelated multipliers, and their noise is no shifted copy of each other's. Unlike
 * `RandomUniformLike`, whose stream restarts with every session, the same (seed, key) gives the
 * same noise in any session, so runs resume exactly. (Tensors of 2³² elements or more would
 * overflow the first product.)
 */
export function hashUniformLike(x: Tensor, seed: number, key: Tensor): Tensor {
  const h = hashBitsLike("hashUniformLike", x, seed, key);
  return cast(div(cast(h, "float64"), PRIME), x.dtype);
}

/** `h / (2³¹ - 1)` rounded to `dtype`, as `hashUniformLike` computes it in the graph. */
function uniformOf(h: number, dtype: DType): number {
  const u = h / PRIME;
  return dtype === "float32" ? Math.fround(u) : u;
}

/**
 * The keep mask of inverted dropout on keyed noise, scaled: `1 / (1 - rate)` where
 * `hashUniformLike(x, seed, key) >= rate` (both in `x`'s dtype), else 0. The same mask as comparing
 * the uniform noise, computed on the integer hash instead: the noise is non-decreasing in `h`, so
 * it reaches `rate` exactly from the smallest such `h` on, found here by bisection. That saves the
 * conversion to float64, the division and the cast back over every element.
 */
export function hashDropoutMask(x: Tensor, rate: number, seed: number, key: Tensor): Tensor {
  const h = hashBitsLike("dropout", x, seed, key);
  const threshold = x.dtype === "float32" ? Math.fround(rate) : rate;
  let low = 0; // noise(low - 1) < threshold (or low = 0)
  let high = PRIME; // noise(high) >= threshold (or high = PRIME: nothing is kept)
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (uniformOf(middle, x.dtype) >= threshold) high = middle;
    else low = middle + 1;
  }
  return where(less(h, low), scalarLike(0, x), scalarLike(1 / (1 - rate), x));
}
