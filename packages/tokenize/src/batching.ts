import { show, TokenizeError } from "./errors.js";
import { shuffleInPlace } from "./random.js";

/** Integer element type of index tensors: onnxruntime's `int64` (BigInt64Array) or `int32`. */
export type IndexDType = "int64" | "int32";

/** Typed array of an {@link IndexDType}. */
export interface IndexArrayMap {
  int64: BigInt64Array;
  int32: Int32Array;
}

/** A `{ data, dims }` tensor, the shape onnxruntime's `Tensor` takes. */
export interface IndexTensor<D extends IndexDType> {
  readonly type: D;
  readonly data: IndexArrayMap[D];
  /** shape: [batch, steps] */
  readonly dims: readonly [number, number];
}

/** What {@link padBatch} needs of each sequence (a {@link WordEncoding} fits). */
export interface BatchItem {
  ids: readonly number[];
  /** Token labels (e.g. from `alignLabels`), padded with `labelPad`. */
  labels?: readonly number[];
}

export interface PadBatchOptions<D extends IndexDType> {
  /** Id of the padding token. */
  padId: number;
  /** Label of padding positions (default -100, the cross-entropy ignore index). */
  labelPad?: number;
  /** Element type of the tensors (default `int64`, which onnxruntime wants for ids). */
  dtype?: D;
  /** Pad the step count up to a multiple of this (default 1). */
  padToMultipleOf?: number;
}

/** A padded batch: right-padded ids, attention mask and labels, `[batch, steps]` each, and the true lengths. */
export interface PaddedBatch<D extends IndexDType> {
  inputIds: IndexTensor<D>;
  attentionMask: IndexTensor<D>;
  /** Present when every item has labels. */
  labels?: IndexTensor<D>;
  /** True length of each sequence. */
  lengths: Int32Array;
}

function allocate<D extends IndexDType>(dtype: D, size: number): IndexArrayMap[D];
function allocate(dtype: IndexDType, size: number): BigInt64Array | Int32Array {
  return dtype === "int64" ? new BigInt64Array(size) : new Int32Array(size);
}

/** Range of values each dtype holds exactly (int64 data come from JS numbers, so safe integers). */
const RANGE: Record<IndexDType, readonly [number, number]> = {
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int32: [-(2 ** 31), 2 ** 31 - 1],
};

/** Throws unless every value is an integer the dtype holds (int32 would wrap or truncate quietly). */
function checkValues(
  argument: string,
  values: readonly number[],
  dtype: IndexDType,
  what: string,
  lowest: number,
): void {
  const [, high] = RANGE[dtype];
  const low = Math.max(lowest, RANGE[dtype][0]);
  values.forEach((value, t) => {
    if (!Number.isInteger(value) || value < low || value > high) {
      throw new TokenizeError(
        "padBatch",
        `${argument}[${t}]`,
        `${what} in [${low}, ${high}] (${dtype})`,
        show(value),
      );
    }
  });
}

function fill(data: BigInt64Array | Int32Array, index: number, value: number): void {
  if (data instanceof BigInt64Array) data[index] = BigInt(value);
  else data[index] = value;
}

/** Pads sequences on the right to the longest in the batch, as typed arrays shaped `[batch, steps]`. */
export function padBatch<D extends IndexDType = "int64">(
  items: readonly BatchItem[],
  options: PadBatchOptions<D>,
): PaddedBatch<D> {
  const dtype = (options.dtype ?? "int64") as D;
  if (dtype !== "int64" && dtype !== "int32") {
    throw new TokenizeError("padBatch", "options.dtype", '"int64" or "int32"', show(dtype));
  }
  const [, high] = RANGE[dtype];
  if (!Number.isInteger(options.padId) || options.padId < 0 || options.padId > high) {
    throw new TokenizeError(
      "padBatch",
      "options.padId",
      `an integer token id in [0, ${high}] (${dtype})`,
      show(options.padId),
    );
  }
  const multiple = options.padToMultipleOf ?? 1;
  if (!Number.isInteger(multiple) || multiple < 1) {
    throw new TokenizeError("padBatch", "options.padToMultipleOf", "an integer >= 1", show(multiple));
  }
  const labelPad = options.labelPad ?? -100;
  if (!Number.isInteger(labelPad) || labelPad < RANGE[dtype][0] || labelPad > high) {
    throw new TokenizeError(
      "padBatch",
      "options.labelPad",
      `an integer in [${RANGE[dtype][0]}, ${high}] (${dtype})`,
      show(labelPad),
    );
  }
  const batch = items.length;
  const lengths = Int32Array.from(items, (item) => item.ids.length);
  const longest = lengths.reduce((a, b) => Math.max(a, b), 0);
  const steps = Math.ceil(longest / multiple) * multiple;
  const withLabels = batch > 0 && items.every((item) => item.labels !== undefined);
  const ids = allocate(dtype, batch * steps);
  const mask = allocate(dtype, batch * steps);
  const labels = withLabels ? allocate(dtype, batch * steps) : undefined;
  items.forEach((item, b) => {
    if (item.labels !== undefined && item.labels.length !== item.ids.length) {
      throw new TokenizeError(
        "padBatch",
        `items[${b}].labels`,
        `one label per token (${item.ids.length})`,
        String(item.labels.length),
      );
    }
    checkValues(`items[${b}].ids`, item.ids, dtype, "an integer token id", 0);
    if (item.labels !== undefined)
      checkValues(`items[${b}].labels`, item.labels, dtype, "an integer label", -Infinity);
    for (let t = 0; t < steps; t++) {
      const at = b * steps + t; // row-major [batch, steps]
      const inside = t < item.ids.length;
      fill(ids, at, inside ? (item.ids[t] ?? options.padId) : options.padId);
      fill(mask, at, inside ? 1 : 0);
      if (labels !== undefined) fill(labels, at, inside ? (item.labels?.[t] ?? labelPad) : labelPad);
    }
  });
  const dims = [batch, steps] as const;
  const padded: PaddedBatch<D> = {
    inputIds: { type: dtype, data: ids, dims },
    attentionMask: { type: dtype, data: mask, dims },
    lengths,
  };
  if (labels !== undefined) padded.labels = { type: dtype, data: labels, dims };
  return padded;
}

export interface BatchPlanOptions {
  /** Sequences per batch (give this or `maxTokens`). */
  batchSize?: number;
  /** Most padded tokens per batch, `batch × longest` (give this or `batchSize`). */
  maxTokens?: number;
  /** Group sequences of similar length (sort by length, then batch). Default true. */
  bucket?: boolean;
  /** Seed for shuffling: ties within a length and the order of batches. Omit for no shuffling. */
  seed?: number;
}

/**
 * Plans batches as lists of indices into `lengths`: fixed-size batches or token-budget batches,
 * optionally bucketed by length and shuffled with a seed. Every index appears exactly once.
 */
export function planBatches(lengths: ArrayLike<number>, options: BatchPlanOptions): number[][] {
  const { batchSize, maxTokens, seed } = options;
  if ((batchSize === undefined) === (maxTokens === undefined)) {
    throw new TokenizeError(
      "planBatches",
      "options",
      "exactly one of batchSize and maxTokens",
      batchSize === undefined ? "neither" : "both",
    );
  }
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new TokenizeError("planBatches", "options.batchSize", "an integer >= 1", show(batchSize));
  }
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new TokenizeError("planBatches", "options.maxTokens", "an integer >= 1", show(maxTokens));
  }
  if (seed !== undefined && !Number.isInteger(seed))
    throw new TokenizeError("planBatches", "options.seed", "an integer", show(seed));
  for (let i = 0; i < lengths.length; i++) {
    const n = lengths[i];
    if (n === undefined || !Number.isInteger(n) || n < 0)
      throw new TokenizeError("planBatches", `lengths[${i}]`, "a length (an integer >= 0)", show(n));
  }
  const order = Array.from({ length: lengths.length }, (_, i) => i);
  if (seed !== undefined) shuffleInPlace(order, seed);
  const length = (i: number): number => lengths[i] ?? 0;
  if (options.bucket ?? true) order.sort((a, b) => length(a) - length(b)); // stable: seeded ties stay shuffled
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const i of order) {
    const n = length(i);
    if (maxTokens !== undefined && n > maxTokens) {
      throw new TokenizeError(
        "planBatches",
        `lengths[${i}]`,
        `a sequence of at most maxTokens (${maxTokens}) tokens`,
        String(n),
      );
    }
    const full =
      batchSize !== undefined
        ? current.length === batchSize
        : (current.length + 1) * Math.max(longest, n) > (maxTokens ?? 0);
    if (current.length > 0 && full) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(i);
    longest = Math.max(longest, n);
  }
  if (current.length > 0) batches.push(current);
  if (seed !== undefined) shuffleInPlace(batches, seed + 1);
  return batches;
}
