import { CrfError } from "./errors.js";

/**
 * Anything shaped like `{ data, dims }`: an onnxruntime `Tensor` works as is. The element type is
 * checked at run time, so a tensor whose static type is a union of every dtype is accepted here.
 */
export interface TensorLike {
  readonly data: ArrayLike<unknown>;
  readonly dims: readonly number[];
}

/** A float64 tensor produced by `@xlt/crf`, batch-first. */
export interface Float64Tensor {
  readonly data: Float64Array;
  readonly dims: number[];
}

/** Emission scores `[batch, steps, numTags]`: a float tensor, or nested arrays (rows may be ragged). */
export type EmissionsInput = TensorLike | ArrayLike<ArrayLike<ArrayLike<number>>>;

/**
 * Gold tags `[batch, steps]` (an int tensor or nested arrays; `-1` means "unknown here"), or a mask
 * of allowed tags per position `{ data: Uint8Array, dims: [batch, steps, numTags] }` (fuzzy labels).
 */
export type TagsInput = TensorLike | ArrayLike<ArrayLike<number>>;

/** Emissions read into float64, `[batch, steps, numTags]`, with the row lengths of ragged input. */
export interface Emissions {
  readonly data: Float64Array;
  readonly batch: number;
  readonly steps: number;
  readonly numTags: number;
  /** Per-sequence lengths implied by the input (all `steps` for a tensor, the row lengths when ragged). */
  readonly impliedLengths: Int32Array;
}

/** Gold labels read from `TagsInput`: one tag per position (`-1` unknown) or an allowed-tag mask. */
export type Labels =
  | { readonly kind: "tags"; readonly data: Int32Array }
  | { readonly kind: "mask"; readonly data: Uint8Array };

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as { length?: number }).length})`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  return typeof value;
}

export function isTensorLike(value: unknown): value is TensorLike {
  return typeof value === "object" && value !== null && "data" in value && "dims" in value;
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return (
    Array.isArray(value) ||
    (ArrayBuffer.isView(value) && !(value instanceof DataView)) ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as { length?: unknown }).length === "number")
  );
}

function checkDims(fn: string, argument: string, dims: unknown, rank: number, shape: string): number[] {
  if (!Array.isArray(dims) || dims.length !== rank) {
    throw new CrfError(fn, `${argument}.dims`, `${rank} dims ${shape}`, describe(dims));
  }
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new CrfError(fn, `${argument}.dims`, "non-negative integers", `[${dims.join(", ")}]`);
    }
  }
  return dims;
}

/** Checks one emission value: NaN and +Infinity are errors; -Infinity is a legal "impossible" score. */
function checkScore(fn: string, value: unknown, b: number, t: number, k: number): void {
  if (typeof value !== "number" || Number.isNaN(value) || value === Number.POSITIVE_INFINITY) {
    throw new CrfError(
      fn,
      `emissions[${b}][${t}][${k}]`,
      "a number that is finite or -Infinity",
      describe(value),
    );
  }
}

/** [b, t, k] of a flat index into `[batch, steps, numTags]`. */
function position(index: number, steps: number, numTags: number): [number, number, number] {
  return [Math.floor(index / (numTags * steps)), Math.floor(index / numTags) % steps, index % numTags];
}

/**
 * Index of the first NaN or +Infinity (both fail `x < Infinity`), or -1. A function of its own so
 * that V8 optimises this hot loop apart from the many-branched reader.
 */
function firstNotBelowInfinity(data: Float64Array): number {
  for (let index = 0; index < data.length; index++) {
    if (!((data[index] as number) < Number.POSITIVE_INFINITY)) return index;
  }
  return -1;
}

function copyArray(fn: string, source: readonly unknown[], steps: number, numTags: number): Float64Array {
  const data = new Float64Array(source.length);
  for (let index = 0; index < source.length; index++) {
    const value = source[index];
    if (typeof value !== "number") checkScore(fn, value, ...position(index, steps, numTags));
    data[index] = value as number;
  }
  return data;
}

/** Reads emissions into a float64 `[batch, steps, numTags]` buffer, validating every value. */
export function readEmissions(fn: string, input: EmissionsInput, numTags: number): Emissions {
  if (isTensorLike(input)) {
    const [batch, steps, tags] = checkDims(fn, "emissions", input.dims, 3, "[batch, steps, numTags]") as [
      number,
      number,
      number,
    ];
    if (tags !== numTags) {
      throw new CrfError(fn, "emissions.dims[2]", `numTags = ${numTags}`, String(tags));
    }
    const source = input.data;
    if (!(source instanceof Float32Array || source instanceof Float64Array || Array.isArray(source))) {
      throw new CrfError(fn, "emissions.data", "a Float32Array, Float64Array or number[]", describe(source));
    }
    const size = batch * steps * numTags;
    if (source.length !== size) {
      throw new CrfError(
        fn,
        "emissions.data.length",
        `${size} (= ${batch}·${steps}·${numTags})`,
        String(source.length),
      );
    }
    const data = Array.isArray(source) ? copyArray(fn, source, steps, numTags) : Float64Array.from(source);
    const bad = firstNotBelowInfinity(data);
    if (bad >= 0) checkScore(fn, data[bad], ...position(bad, steps, numTags));
    return { data, batch, steps, numTags, impliedLengths: new Int32Array(batch).fill(steps) };
  }
  if (!isArrayLike(input)) {
    throw new CrfError(fn, "emissions", "a { data, dims } tensor or number[][][]", describe(input));
  }
  const batch = input.length;
  const impliedLengths = new Int32Array(batch);
  let steps = 0;
  for (let b = 0; b < batch; b++) {
    const row = input[b];
    if (!isArrayLike(row)) throw new CrfError(fn, `emissions[${b}]`, "an array of steps", describe(row));
    impliedLengths[b] = row.length;
    steps = Math.max(steps, row.length);
  }
  const data = new Float64Array(batch * steps * numTags);
  for (let b = 0; b < batch; b++) {
    const row = input[b] as ArrayLike<ArrayLike<number>>;
    for (let t = 0; t < row.length; t++) {
      const scores = row[t];
      if (!isArrayLike(scores) || scores.length !== numTags) {
        throw new CrfError(fn, `emissions[${b}][${t}]`, `${numTags} scores (numTags)`, describe(scores));
      }
      const base = (b * steps + t) * numTags;
      for (let k = 0; k < numTags; k++) {
        const value = scores[k] as number;
        checkScore(fn, value, b, t, k);
        data[base + k] = value;
      }
    }
  }
  return { data, batch, steps, numTags, impliedLengths };
}

/** Validates `lengths` (1..steps, one per sequence, within ragged rows) or returns the implied ones. */
export function readLengths(
  fn: string,
  lengths: ArrayLike<number> | undefined,
  emissions: Emissions,
): Int32Array {
  const { batch, steps, impliedLengths } = emissions;
  if (lengths === undefined) {
    for (let b = 0; b < batch; b++) {
      if (impliedLengths[b] === 0) {
        throw new CrfError(fn, `emissions[${b}]`, "at least one step (or pass lengths)", "0 steps");
      }
    }
    return impliedLengths;
  }
  if (!isArrayLike(lengths) || lengths.length !== batch) {
    throw new CrfError(fn, "options.lengths", `${batch} lengths (one per sequence)`, describe(lengths));
  }
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const length = lengths[b] as number;
    const limit = impliedLengths[b] as number;
    if (!Number.isInteger(length) || length < 1 || length > limit) {
      const what = limit === steps ? `steps = ${steps}` : `the ${limit} steps of emissions[${b}]`;
      throw new CrfError(
        fn,
        `options.lengths[${b}]`,
        `an integer in 1..${limit} (${what})`,
        describe(length),
      );
    }
    out[b] = length;
  }
  return out;
}

/** Reads gold tags `[batch, steps]` (or an allowed-tag mask `[batch, steps, numTags]`) for `nll`. */
export function readLabels(fn: string, input: TagsInput, emissions: Emissions, lengths: Int32Array): Labels {
  const { batch, steps, numTags } = emissions;
  if (isTensorLike(input) && Array.isArray(input.dims) && input.dims.length === 3) {
    const dims = checkDims(fn, "tags", input.dims, 3, "[batch, steps, numTags]");
    if (dims[0] !== batch || dims[1] !== steps || dims[2] !== numTags) {
      throw new CrfError(
        fn,
        "tags.dims",
        `[${batch}, ${steps}, ${numTags}] for a tag mask`,
        `[${dims.join(", ")}]`,
      );
    }
    const source = input.data;
    if (!(source instanceof Uint8Array) || source.length !== batch * steps * numTags) {
      throw new CrfError(
        fn,
        "tags.data",
        `a Uint8Array of ${batch * steps * numTags} mask values`,
        describe(source),
      );
    }
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < (lengths[b] as number); t++) {
        let any = false;
        for (let k = 0; k < numTags; k++) if (source[(b * steps + t) * numTags + k] !== 0) any = true;
        if (!any) throw new CrfError(fn, `tags mask[${b}][${t}]`, "at least one allowed tag", "none");
      }
    }
    return { kind: "mask", data: source };
  }
  const data = new Int32Array(batch * steps);
  const check = (b: number, t: number, value: unknown): void => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < -1 || value >= numTags) {
      throw new CrfError(
        fn,
        `tags[${b}][${t}]`,
        `an integer tag in 0..${numTags - 1} or -1 (unknown)`,
        describe(value),
      );
    }
  };
  if (isTensorLike(input)) {
    const dims = checkDims(fn, "tags", input.dims, 2, "[batch, steps]");
    if (dims[0] !== batch || dims[1] !== steps) {
      throw new CrfError(fn, "tags.dims", `[${batch}, ${steps}]`, `[${dims.join(", ")}]`);
    }
    const source = input.data;
    const okType =
      source instanceof Int32Array ||
      source instanceof Int16Array ||
      source instanceof Int8Array ||
      source instanceof Uint8Array ||
      source instanceof Uint16Array ||
      source instanceof BigInt64Array ||
      Array.isArray(source);
    if (!okType || source.length !== batch * steps) {
      throw new CrfError(fn, "tags.data", `an integer array of ${batch * steps} tags`, describe(source));
    }
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < (lengths[b] as number); t++) {
        const raw = source[b * steps + t];
        const value = typeof raw === "bigint" ? Number(raw) : raw;
        check(b, t, value);
        data[b * steps + t] = value as number;
      }
    }
    return { kind: "tags", data };
  }
  if (!isArrayLike(input) || input.length !== batch) {
    throw new CrfError(fn, "tags", `${batch} tag sequences (one per emissions row)`, describe(input));
  }
  for (let b = 0; b < batch; b++) {
    const row = input[b];
    const length = lengths[b] as number;
    if (!isArrayLike(row) || row.length < length) {
      throw new CrfError(fn, `tags[${b}]`, `at least ${length} tags (the sequence length)`, describe(row));
    }
    for (let t = 0; t < length; t++) {
      const value = row[t];
      check(b, t, value);
      data[b * steps + t] = value as number;
    }
  }
  return { kind: "tags", data };
}
