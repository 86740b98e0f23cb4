import { describe, expect, it } from "vitest";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "./safetensors.js";

/** Builds a file by hand from a header object and raw data, as the format specifies. */
function file(header: unknown, data: Uint8Array, declaredLength?: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe("safetensors", () => {
  it("writes the documented layout byte for byte", () => {
    const bytes = writeSafetensors(
      new Map<string, SafetensorsTensor>([["a", { dtype: "F32", shape: [1], data: Float32Array.of(1) }]]),
    );
    const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true))).toBe(padded.length);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + padded.length))).toBe(padded);
    expect(Array.from(bytes.subarray(8 + padded.length))).toEqual([0, 0, 0x80, 0x3f]);
  });

  it("reads a Node Buffer that is a view into a shared pool (as fs.readFileSync and Buffer.from give)", () => {
    const bytes = writeSafetensors(
      new Map<string, SafetensorsTensor>([
        ["w", { dtype: "F32", shape: [2], data: Float32Array.of(1.5, -2) }],
        ["d", { dtype: "F64", shape: [1], data: Float64Array.of(Math.E) }],
      ]),
    );
    const pooled = Buffer.from(bytes); // small Buffers share Node's 8 KiB pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    const back = readSafetensors(pooled);
    expect(back.tensors.get("w")?.data).toEqual(Float32Array.of(1.5, -2));
    expect(back.tensors.get("d")?.data).toEqual(Float64Array.of(Math.E));
  });

  it("round-trips every dtype and metadata", () => {
    const tensors = new Map<string, SafetensorsTensor>([
      ["w", { dtype: "F32", shape: [2, 2], data: Float32Array.of(1, -2, 3.5, 0) }],
      ["d", { dtype: "F64", shape: [1], data: Float64Array.of(Math.PI) }],
      ["i", { dtype: "I64", shape: [2], data: BigInt64Array.of(-1n, 2n ** 40n) }],
      ["j", { dtype: "I32", shape: [], data: Int32Array.of(7) }],
      ["b", { dtype: "BOOL", shape: [3], data: Uint8Array.of(1, 0, 1) }],
      ["h", { dtype: "F16", shape: [2], data: Uint16Array.of(0x3c00, 0xc000) }],
      ["bh", { dtype: "BF16", shape: [1], data: Uint16Array.of(0x3f80) }],
      ["empty", { dtype: "F32", shape: [0], data: new Float32Array(0) }],
    ]);
    const back = readSafetensors(writeSafetensors(tensors, { step: "12" }));
    expect(back.metadata).toEqual({ step: "12" });
    for (const [name, tensor] of tensors) {
      expect(back.tensors.get(name)?.dtype).toBe(tensor.dtype);
      expect(back.tensors.get(name)?.shape).toEqual(tensor.shape);
      expect(back.tensors.get(name)?.data).toEqual(tensor.data);
    }
  });

  it("rejects malformed headers with a precise message", () => {
    const four = new Uint8Array(4);
    const entry = (extra: object) => ({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4], ...extra } });
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(3), "bytes: expected at least 8 bytes, got 3"],
      [file({}, four, 1000), "header length: expected at most"],
      [file([1], new Uint8Array(0)), "header: expected a JSON object, got object"],
      [
        file(entry({ dtype: "F8_E4M3" }), four),
        'a.dtype: expected one of F32, F64, F16, BF16, I64, I32, BOOL, got "F8_E4M3"',
      ],
      [file(entry({ shape: [-1] }), four), "a.shape: expected an array of non-negative integers, got [-1]"],
      [
        file(entry({ data_offsets: [0] }), four),
        "a.data_offsets: expected two non-negative integers, got [0]",
      ],
      [
        file(entry({ data_offsets: [0, 8] }), four),
        "a.data_offsets: expected 0 <= begin <= end <= 4, got [0,8]",
      ],
      [file(entry({ shape: [2] }), four), "a.data_offsets: expected 8 bytes for F32[2], got 4"],
      [
        file({ ...entry({}), b: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, four),
        "b.data_offsets: expected no overlap (begin >= 4), got [0,4]",
      ],
      [
        file(entry({ data_offsets: [4, 8] }), new Uint8Array(8)),
        "a.data_offsets: expected no gap (begin = 0), got [4,8]",
      ],
      [file(entry({}), new Uint8Array(8)), "data: expected 4 bytes after the header, got 8"],
      [
        file({ __metadata__: { a: 1 } }, new Uint8Array(0)),
        '__metadata__: expected an object of strings, got {"a":1}',
      ],
    ];
    for (const [bytes, message] of cases)
      expect(() => readSafetensors(bytes)).toThrow(`readSafetensors: ${message}`);
    const bad = file({}, new Uint8Array(0));
    bad[8] = 0xff;
    expect(() => readSafetensors(bad)).toThrow("readSafetensors: header: expected UTF-8 JSON");
    expect(() =>
      writeSafetensors(new Map([["x", { dtype: "F32", shape: [2], data: Float32Array.of(1) }]])),
    ).toThrow("writeSafetensors: x: expected 2 elements for shape [2], got 1");
  });
});
