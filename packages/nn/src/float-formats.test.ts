import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bfloat16Bits,
  bfloat16Value,
  float16Bits,
  float16Value,
  fromFloats,
  toFloats,
} from "./float-formats.js";

// torch's .half() and .bfloat16() of edge-case float32 values (fixtures/make_encoders.py).
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/encoders/float-formats.json", import.meta.url), "utf8"),
) as { float32: number[]; f16: number[]; bf16: number[] };
const values = new Float32Array(Uint32Array.from(reference.float32).buffer);

describe("float16 and bfloat16", () => {
  it("round float32 values exactly as torch does (ties to even, subnormals, overflow, NaN)", () => {
    expect(values.length).toBe(66);
    for (const [index, value] of values.entries()) {
      if (Number.isNaN(value)) {
        // torch's vectorised bfloat16 path writes NaN as 0xffff, its scalar path 0x7fc0: any NaN will do.
        expect(Number.isNaN(float16Value(float16Bits(value)))).toBe(true);
        expect(Number.isNaN(bfloat16Value(bfloat16Bits(value)))).toBe(true);
        continue;
      }
      expect([value, float16Bits(value)]).toEqual([value, reference.f16[index]]);
      expect([value, bfloat16Bits(value)]).toEqual([value, reference.bf16[index]]);
    }
  });

  it("decode every bit pattern to a value that encodes back to it", () => {
    for (let bits = 0; bits < 0x10000; bits += 1) {
      const half = float16Value(bits);
      const brain = bfloat16Value(bits);
      if (Number.isNaN(half)) expect((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0).toBe(true);
      else expect(float16Bits(half)).toBe(bits);
      if (Number.isNaN(brain)) expect((bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0).toBe(true);
      else expect(bfloat16Bits(brain)).toBe(bits);
    }
  });

  it("round to the nearest representable value (property)", () => {
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const rounded = float16Value(float16Bits(x));
        const ulp = 2 ** (Math.max(Math.floor(Math.log2(Math.abs(x) || 1)), -14) - 10);
        expect(Math.abs(rounded - x)).toBeLessThanOrEqual(ulp / 2);
      }),
    );
  });

  it("toFloats and fromFloats convert whole tensors and refuse integer ones", () => {
    const data = [1.5, -0.25, 3];
    for (const dtype of ["F32", "F64", "F16", "BF16"] as const)
      expect(Array.from(toFloats(fromFloats(data, dtype, [3])))).toEqual(data);
    expect(() => toFloats({ dtype: "I32", shape: [1], data: Int32Array.of(1) })).toThrow(
      "toFloats: tensor.dtype: expected one of F32, F64, F16, BF16, got I32",
    );
  });
});
