import { NnError } from "./errors.js";
import type { Random } from "./random.js";

/** Fills a parameter of `shape` with draws from `random`. `fanIn`/`fanOut` follow torch's convention for 2-D `[in, out]` weights. */
export type Initializer = (shape: readonly number[], random: Random) => Float64Array;

const size = (shape: readonly number[]) => shape.reduce((product, dim) => product * dim, 1);

/** `[fanIn, fanOut]` of a weight stored as `[..., in, out]`; vectors count as fanIn = length. */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) return [shape[0] ?? 1, shape[0] ?? 1];
  const receptive = size(shape.slice(0, -2));
  return [(shape[shape.length - 2] ?? 1) * receptive, (shape[shape.length - 1] ?? 1) * receptive];
}

function check(fn: string, name: string, value: number): void {
  if (!Number.isFinite(value)) throw new NnError(fn, name, "a finite number", String(value));
}

/** All zeros. */
export const zeros: Initializer = (shape) => new Float64Array(size(shape));

/** All ones. */
export const ones: Initializer = (shape) => new Float64Array(size(shape)).fill(1);

/** Every entry `value`. */
export function constant(value: number): Initializer {
  check("constant", "value", value);
  return (shape) => new Float64Array(size(shape)).fill(value);
}

/** U(low, high). */
export function uniform(low: number, high: number): Initializer {
  check("uniform", "low", low);
  check("uniform", "high", high);
  if (!(low < high)) throw new NnError("uniform", "high", `a number > ${low}`, String(high));
  return (shape, random) =>
    Float64Array.from({ length: size(shape) }, () => low + (high - low) * random.next());
}

/** N(mean, std²). */
export function normal(std = 1, mean = 0): Initializer {
  check("normal", "std", std);
  check("normal", "mean", mean);
  if (std < 0) throw new NnError("normal", "std", "a number >= 0", String(std));
  return (shape, random) => Float64Array.from({ length: size(shape) }, () => mean + std * random.normal());
}

/** Glorot/Xavier uniform: U(±√(6 / (fanIn + fanOut))) (Glorot & Bengio 2010). */
export const xavierUniform: Initializer = (shape, random) => {
  const [fanIn, fanOut] = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(-limit, limit)(shape, random);
};

/** torch's `nn.Linear` default: U(±1/√fanIn) (kaiming uniform with a = √5). */
export function fanInUniform(fanIn: number): Initializer {
  if (!(Number.isInteger(fanIn) && fanIn > 0))
    throw new NnError("fanInUniform", "fanIn", "a positive integer", String(fanIn));
  const bound = 1 / Math.sqrt(fanIn);
  return (shape, random) => uniform(-bound, bound)(shape, random);
}
