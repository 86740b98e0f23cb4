import { PeftError } from "./errors.js";

/**
 * The 16 NormalFloat-4 values of QLoRA (Dettmers et al. 2023, "QLoRA: Efficient Finetuning of
 * Quantized LLMs", appendix E), as bitsandbytes publishes them in float32: quantiles of N(0, 1)
 * scaled to [-1, 1], with an exact zero and one more positive than negative value. Code `i` (a
 * 4-bit integer) stands for `NF4_CODE[i]`.
 */
export const NF4_CODE: Float32Array = Float32Array.of(
  -1.0,
  -0.6961928009986877,
  -0.5250730514526367,
  -0.39491748809814453,
  -0.28444138169288635,
  -0.18477343022823334,
  -0.09105003625154495,
  0.0,
  0.07958029955625534,
  0.16093020141124725,
  0.24611230194568634,
  0.33791524171829224,
  0.44070982933044434,
  0.5626170039176941,
  0.7229568362236023,
  1.0,
);

/** bitsandbytes' block size for 4-bit weights (`blocksize=64`). */
export const NF4_BLOCK_SIZE = 64;
/** bitsandbytes' block size when it quantises the absmax values again (`blocksize=256`). */
export const DOUBLE_QUANT_BLOCK_SIZE = 256;

const f32 = Math.fround;

/**
 * `torch.linspace(start, end, steps)` in float32 as torch's CPU kernel computes it: the first half
 * counts up from `start`, the second down from `end`; whole runs of 16 values are two 8-lane vectors
 * whose lanes add `lane · step` (rounded) to the first value of the vector, and the tail is scalar.
 * (bitsandbytes builds its dynamic map with it; the fixture checks every value.)
 */
function linspace32(start: number, end: number, steps: number): number[] {
  const first = f32(start);
  const last = f32(end);
  const step = f32(f32(last - first) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const at = (index: number) =>
    index < halfway ? f32(first + step * index) : f32(last - step * (steps - index - 1));
  const out: number[] = [];
  let index = 0;
  for (; index + 16 <= steps; index += 16) {
    for (const vector of [index, index + 8]) {
      const base = at(vector);
      for (let lane = 0; lane < 8; lane += 1) out.push(f32(base + f32(step * lane)));
    }
  }
  for (; index < steps; index += 1) out.push(at(index));
  return out;
}

/**
 * bitsandbytes' signed 8-bit dynamic quantisation map (`create_dynamic_map(signed=True)`, after
 * Dettmers 2016, "8-Bit Approximations for Parallelism in Deep Learning"): 256 sorted float32
 * values in [-1, 1], dense near zero. Double quantisation stores the absmax values in this code.
 */
export function dynamicMap(): Float32Array {
  const data: number[] = [];
  const maxExponentBits = 7;
  for (let i = 0; i < maxExponentBits; i += 1) {
    const boundaries = linspace32(0.1, 1, 2 ** i + 1);
    const scale = 10 ** (-(maxExponentBits - 1) + i);
    for (let j = 0; j + 1 < boundaries.length; j += 1) {
      const mean = f32(f32((boundaries[j] as number) + (boundaries[j + 1] as number)) / 2);
      data.push(f32(f32(scale) * mean), f32(-f32(scale) * mean));
    }
  }
  data.push(0, 1);
  return Float32Array.from(data.sort((a, b) => a - b));
}

/** Index of the code value nearest to `x` (the first on ties; NaN gives 0, as bitsandbytes). */
function nearest(code: Float32Array, x: number): number {
  if (Number.isNaN(x)) return 0;
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let index = 0; index < code.length; index += 1) {
    const distance = Math.abs(f32(x - (code[index] as number)));
    if (distance < bestDistance) {
      best = index;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Blockwise absmax quantisation into a codebook, as bitsandbytes' reference (`default`) backend:
 * per block of `blockSize` values (the last may be shorter) `absmax = max |x|`, then each value's
 * code is the nearest codebook entry to `clamp(x · (1/absmax), -1, 1)`, all in float32.
 */
export function quantizeBlockwise(
  data: ArrayLike<number>,
  code: Float32Array,
  blockSize: number,
): { codes: Uint8Array; absmax: Float32Array } {
  const blocks = Math.ceil(data.length / blockSize);
  const absmax = new Float32Array(blocks);
  const codes = new Uint8Array(data.length);
  for (let block = 0; block < blocks; block += 1) {
    const start = block * blockSize;
    const end = Math.min(start + blockSize, data.length);
    let max = 0;
    for (let index = start; index < end; index += 1)
      max = Math.max(max, Math.abs(f32(data[index] as number)));
    absmax[block] = max;
    const inverse = f32(1 / max);
    for (let index = start; index < end; index += 1) {
      const scaled = Math.min(1, Math.max(-1, f32(f32(data[index] as number) * inverse)));
      codes[index] = nearest(code, scaled);
    }
  }
  return { codes, absmax };
}

/** The absmax values quantised once more (QLoRA's double quantisation). */
export interface DoubleQuantized {
  /** One 8-bit code per 64-value block, an index into `dynamicMap()`. */
  readonly codes: Uint8Array;
  /** One float32 absmax per 256 codes. */
  readonly absmax: Float32Array;
  /** The mean of the original absmax values, subtracted before quantising them (float32). */
  readonly offset: number;
}

/** A weight in 4-bit NF4, laid out as bitsandbytes' `quantize_4bit` output. */
export interface Nf4Tensor {
  /** Shape of the quantised tensor (torch's `[out, in]` for a linear weight); row-major order. */
  readonly shape: readonly number[];
  readonly blockSize: number;
  /** Two codes per byte: element `2i` in the high nibble, `2i + 1` in the low one (odd sizes pad a 0 value). */
  readonly packed: Uint8Array;
  /** One float32 absmax per block, unless the absmax values are double-quantised. */
  readonly absmax?: Float32Array;
  readonly doubleQuant?: DoubleQuantized;
}

export interface Nf4Options {
  /** Values per absmax block (default 64, as bitsandbytes). */
  readonly blockSize?: number;
  /** Quantise the absmax values to 8 bits in blocks of 256 (`bnb_4bit_use_double_quant`). Default false. */
  readonly doubleQuant?: boolean;
}

/**
 * Quantises `data` (row-major, of `shape`) to NF4 exactly as bitsandbytes' `quantize_4bit(...,
 * quant_type="nf4", blocksize, compress_statistics=doubleQuant)` does on its reference backend:
 * blockwise absmax, nearest NF4 code, two codes per byte; with double quantisation the absmax values
 * minus their mean are quantised blockwise (256) into the dynamic 8-bit map.
 */
export function quantizeNf4(
  data: ArrayLike<number>,
  shape: readonly number[],
  options: Nf4Options = {},
): Nf4Tensor {
  const fn = "quantizeNf4";
  for (const [index, dim] of shape.entries()) {
    if (!(Number.isInteger(dim) && dim > 0))
      throw new PeftError(fn, `shape[${index}]`, "a positive integer", String(dim));
  }
  const size = shape.reduce((product, dim) => product * dim, 1);
  if (data.length !== size)
    throw new PeftError(fn, "data", `${size} values for shape [${shape.join(",")}]`, String(data.length));
  const blockSize = options.blockSize ?? NF4_BLOCK_SIZE;
  if (!(Number.isInteger(blockSize) && blockSize >= 2 && blockSize % 2 === 0))
    throw new PeftError(fn, "blockSize", "an even integer >= 2", String(blockSize));
  for (let index = 0; index < data.length; index += 1) {
    if (!Number.isFinite(data[index]))
      throw new PeftError(fn, `data[${index}]`, "a finite number", String(data[index]));
  }
  const { codes, absmax } = quantizeBlockwise(data, NF4_CODE, blockSize);
  const packed = new Uint8Array(Math.ceil(size / 2));
  // An odd size pads one scaled 0, whose nearest code is 7 (the exact zero).
  for (let index = 0; index < packed.length; index += 1) {
    const low = 2 * index + 1 < size ? (codes[2 * index + 1] as number) : 7;
    packed[index] = ((codes[2 * index] as number) << 4) | low;
  }
  if (!options.doubleQuant) return { shape: [...shape], blockSize, packed, absmax };
  let sum = 0;
  for (const value of absmax) sum += value;
  const offset = f32(sum / absmax.length);
  const centred = absmax.map((value) => f32(value - offset));
  const second = quantizeBlockwise(centred, dynamicMap(), DOUBLE_QUANT_BLOCK_SIZE);
  return {
    shape: [...shape],
    blockSize,
    packed,
    doubleQuant: { codes: second.codes, absmax: second.absmax, offset },
  };
}

/** The float32 absmax of every block (dequantising them first under double quantisation). */
export function nf4Absmax(tensor: Nf4Tensor): Float32Array {
  if (tensor.absmax) return tensor.absmax;
  const dq = tensor.doubleQuant as DoubleQuantized;
  const code = dynamicMap();
  return Float32Array.from(dq.codes, (q, index) =>
    f32(
      f32((code[q] as number) * (dq.absmax[Math.floor(index / DOUBLE_QUANT_BLOCK_SIZE)] as number)) +
        dq.offset,
    ),
  );
}

/** The 4-bit code of every element, unpacked. */
export function nf4Codes(tensor: Nf4Tensor): Uint8Array {
  const size = tensor.shape.reduce((product, dim) => product * dim, 1);
  return Uint8Array.from({ length: size }, (_, index) => {
    const byte = tensor.packed[index >> 1] as number;
    return index % 2 === 0 ? byte >> 4 : byte & 15;
  });
}

/** Dequantises as bitsandbytes' `dequantize_4bit`: `NF4_CODE[code] · absmax[block]` in float32. */
export function dequantizeNf4(tensor: Nf4Tensor): Float32Array {
  const absmax = nf4Absmax(tensor);
  const codes = nf4Codes(tensor);
  return Float32Array.from(codes, (code, index) =>
    f32((NF4_CODE[code] as number) * (absmax[Math.floor(index / tensor.blockSize)] as number)),
  );
}

/** Bytes of the quantised storage: packed codes plus absmax (or its 8-bit codes, scales and offset). */
export function nf4Bytes(tensor: Nf4Tensor): number {
  const stats = tensor.doubleQuant
    ? tensor.doubleQuant.codes.length + 4 * tensor.doubleQuant.absmax.length + 4
    : 4 * (tensor.absmax?.length ?? 0);
  return tensor.packed.length + stats;
}
