import { NnError } from "./errors.js";
import type { SafetensorsDType, SafetensorsTensor } from "./safetensors.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 bit pattern of `value` (rounded to float32 first). */
function bitsOf(value: number): number {
  f32[0] = value;
  return u32[0] as number;
}

/**
 * The IEEE binary16 bits nearest to `value` (via float32, ties to even, as torch's `.half()`):
 * overflow gives ±Infinity, NaN stays NaN, small values become subnormals or ±0.
 */
export function float16Bits(value: number): number {
  const x = bitsOf(value);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves into the exponent, up to Infinity: still the right rounding.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** The value of IEEE binary16 bits. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The bfloat16 bits nearest to `value` (via float32, ties to even, as torch's `.bfloat16()`). */
export function bfloat16Bits(value: number): number {
  const x = bitsOf(value);
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The value of bfloat16 bits. */
export function bfloat16Value(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0] as number;
}

/** Floating safetensors dtypes, which {@link toFloats} and {@link fromFloats} convert. */
export type FloatDType = "F32" | "F64" | "F16" | "BF16";

export const isFloatDType = (dtype: SafetensorsDType): dtype is FloatDType =>
  dtype === "F32" || dtype === "F64" || dtype === "F16" || dtype === "BF16";

/** A floating tensor's values as float64 (exact for every float dtype). */
export function toFloats(tensor: SafetensorsTensor): Float64Array {
  switch (tensor.dtype) {
    case "F32":
    case "F64":
      return Float64Array.from(tensor.data);
    case "F16":
      return Float64Array.from(tensor.data, float16Value);
    case "BF16":
      return Float64Array.from(tensor.data, bfloat16Value);
    default:
      throw new NnError("toFloats", "tensor.dtype", "one of F32, F64, F16, BF16", tensor.dtype);
  }
}

/** Values stored as `dtype` (rounded to nearest, ties to even, as torch converts). */
export function fromFloats(
  data: ArrayLike<number>,
  dtype: FloatDType,
  shape: readonly number[],
): SafetensorsTensor {
  switch (dtype) {
    case "F32":
      return { dtype, shape, data: Float32Array.from(data) };
    case "F64":
      return { dtype, shape, data: Float64Array.from(data) };
    case "F16":
      return { dtype, shape, data: Uint16Array.from(data, float16Bits) };
    case "BF16":
      return { dtype, shape, data: Uint16Array.from(data, bfloat16Bits) };
  }
}
