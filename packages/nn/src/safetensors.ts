import { NnError } from "./errors.js";

/** safetensors dtypes this package reads and writes. */
export type SafetensorsDType = "F32" | "F64" | "F16" | "BF16" | "I64" | "I32" | "BOOL";

/** The typed array of each safetensors dtype. */
export interface SafetensorsArrayMap {
  F32: Float32Array;
  F64: Float64Array;
  /** IEEE binary16 bit patterns: convert with {@link toFloat32}. */
  F16: Uint16Array;
  /** bfloat16 bit patterns (the upper half of a float32): convert with {@link toFloat32}. */
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  BOOL: Uint8Array;
}

/** One named tensor. */
export type SafetensorsTensor = {
  [D in SafetensorsDType]: {
    readonly dtype: D;
    readonly shape: readonly number[];
    readonly data: SafetensorsArrayMap[D];
  };
}[SafetensorsDType];

/** A safetensors file's content. */
export interface Safetensors {
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

const BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F32: 4,
  F64: 8,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  BOOL: 1,
};

/** Headers larger than this are refused (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const isDType = (value: unknown): value is SafetensorsDType => typeof value === "string" && value in BYTES;

function arrayOf(dtype: SafetensorsDType, bytes: Uint8Array): SafetensorsTensor["data"] {
  // An explicit copy into a buffer of its own: a Node Buffer's slice() is a view of a shared pool,
  // whose .buffer would be the whole pool. The copy also aligns the data for the typed array.
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  switch (dtype) {
    case "F32":
      return new Float32Array(copy);
    case "F64":
      return new Float64Array(copy);
    case "F16":
    case "BF16":
      return new Uint16Array(copy);
    case "I64":
      return new BigInt64Array(copy);
    case "I32":
      return new Int32Array(copy);
    case "BOOL":
      return new Uint8Array(copy);
  }
}

/**
 * Encodes tensors as safetensors: an 8-byte little-endian header length, a JSON header (padded with
 * spaces to a multiple of 8 bytes) and the tensors' little-endian bytes back to back, in name order.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name) as SafetensorsTensor;
    if (name === "__metadata__")
      throw new NnError("writeSafetensors", "name", "a tensor name other than __metadata__", name);
    const expected = tensor.shape.reduce((product, dim) => product * dim, 1);
    if (tensor.data.length !== expected) {
      throw new NnError(
        "writeSafetensors",
        name,
        `${expected} elements for shape [${tensor.shape.join(",")}]`,
        String(tensor.data.length),
      );
    }
    header[name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.data.byteLength],
    };
    offset += tensor.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.byteLength;
  for (const name of names) {
    const data = (tensors.get(name) as SafetensorsTensor).data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

/**
 * Decodes a safetensors file, validating the header strictly: bounded size, a JSON object, known
 * dtypes, non-negative integer shapes, offsets inside the buffer whose length matches the shape,
 * no overlaps and no gaps (the tensors cover the data section exactly), string-only metadata.
 */
export function readSafetensors(bytes: Uint8Array): Safetensors {
  const fn = "readSafetensors";
  if (bytes.byteLength < 8) throw new NnError(fn, "bytes", "at least 8 bytes", String(bytes.byteLength));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    throw new NnError(
      fn,
      "header length",
      `at most ${Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8)} bytes`,
      String(headerLength),
    );
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    throw new NnError(fn, "header", "UTF-8 JSON", error instanceof Error ? error.message : String(error));
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new NnError(fn, "header", "a JSON object", typeof header);
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: [number, number, string][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (
        typeof entry !== "object" ||
        entry === null ||
        Array.isArray(entry) ||
        Object.values(entry).some((v) => typeof v !== "string")
      ) {
        throw new NnError(fn, "__metadata__", "an object of strings", JSON.stringify(entry));
      }
      metadata = Object.fromEntries(Object.entries(entry).map(([key, value]) => [key, String(value)]));
      continue;
    }
    if (typeof entry !== "object" || entry === null)
      throw new NnError(fn, name, "an object with dtype, shape, data_offsets", JSON.stringify(entry));
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(dtype))
      throw new NnError(
        fn,
        `${name}.dtype`,
        "one of F32, F64, F16, BF16, I64, I32, BOOL",
        JSON.stringify(dtype),
      );
    if (!Array.isArray(shape) || shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
      throw new NnError(fn, `${name}.shape`, "an array of non-negative integers", JSON.stringify(shape));
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      offsets.some((o) => !Number.isSafeInteger(o) || o < 0)
    ) {
      throw new NnError(fn, `${name}.data_offsets`, "two non-negative integers", JSON.stringify(offsets));
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength)
      throw new NnError(
        fn,
        `${name}.data_offsets`,
        `0 <= begin <= end <= ${dataLength}`,
        `[${begin},${end}]`,
      );
    const elements = (shape as number[]).reduce((product, dim) => product * dim, 1);
    if (end - begin !== elements * BYTES[dtype]) {
      throw new NnError(
        fn,
        `${name}.data_offsets`,
        `${elements * BYTES[dtype]} bytes for ${dtype}[${shape.join(",")}]`,
        `${end - begin}`,
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, {
      dtype,
      shape: shape as number[],
      data: arrayOf(dtype, bytes.subarray(dataStart + begin, dataStart + end)),
    } as SafetensorsTensor);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin < covered)
      throw new NnError(fn, `${name}.data_offsets`, `no overlap (begin >= ${covered})`, `[${begin},${end}]`);
    if (begin > covered)
      throw new NnError(fn, `${name}.data_offsets`, `no gap (begin = ${covered})`, `[${begin},${end}]`);
    covered = end;
  }
  if (covered !== dataLength)
    throw new NnError(fn, "data", `${covered} bytes after the header`, String(dataLength));
  return { tensors, metadata };
}
