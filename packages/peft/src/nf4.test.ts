import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import {
  DOUBLE_QUANT_BLOCK_SIZE,
  dequantizeNf4,
  dynamicMap,
  NF4_CODE,
  nf4Absmax,
  nf4Bytes,
  nf4Codes,
  quantizeNf4,
} from "./nf4.js";

interface Case {
  name: string;
  shape: number[];
  seed: number;
  scale: number;
  outliers: number;
  double_quant: boolean;
  packed_b64: string;
  absmax_b64: string;
  dequantized_b64: string;
  q2_b64?: string;
  absmax2_b64?: string;
  offset?: number;
}
const fixture: {
  nf4_published: number[];
  nf4_from_normal_quantiles: number[];
  dynamic_map: number[];
  cases: Case[];
} = JSON.parse(readFileSync(new URL("../fixtures/nf4.json", import.meta.url), "utf8"));

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
const floats = (b64: string) => new Float32Array(bytes(b64).buffer);

/** The fixture script's inputs: Irwin–Hall(4) − 2 from an LCG, scaled, every `outliers`-th ×8; float32. */
function inputs(n: number, seed: number, scale: number, outliers: number): Float32Array {
  const out = new Float32Array(n);
  let state = BigInt(seed);
  for (let i = 0; i < n; i += 1) {
    let total = 0;
    for (let k = 0; k < 4; k += 1) {
      state = (1103515245n * state + 12345n) % 2147483648n;
      total += Number(state) / 2147483648;
    }
    let value = (total - 2) * scale;
    if (outliers && i % outliers === 0) value *= 8;
    out[i] = value;
  }
  return out;
}

describe("NF4 code values", () => {
  it("equal bitsandbytes' published table and the normal-quantile construction (fixture script)", () => {
    expect([...NF4_CODE]).toEqual(fixture.nf4_published);
    expect([...NF4_CODE]).toEqual(fixture.nf4_from_normal_quantiles);
  });

  it("the dynamic 8-bit map equals bitsandbytes' create_dynamic_map(signed=True) bit for bit", () => {
    expect([...dynamicMap()]).toEqual(fixture.dynamic_map);
  });
});

describe("quantizeNf4 against the bitsandbytes reference backend (fixtures/nf4.py)", () => {
  for (const entry of fixture.cases) {
    it(`${entry.name}: packed codes exact, absmax and dequantised values to 1e-7`, () => {
      const size = entry.shape.reduce((p, d) => p * d, 1);
      const data = inputs(size, entry.seed, entry.scale, entry.outliers);
      const q = quantizeNf4(data, entry.shape, { doubleQuant: entry.double_quant });
      expect([...q.packed]).toEqual([...bytes(entry.packed_b64)]);
      if (entry.double_quant) {
        expect([...(q.doubleQuant?.codes ?? [])]).toEqual([...bytes(entry.q2_b64 ?? "")]);
        const scales = floats(entry.absmax2_b64 ?? "");
        q.doubleQuant?.absmax.forEach((value, index) => {
          expect(Math.abs(value - (scales[index] as number))).toBeLessThanOrEqual(1e-7);
        });
        expect(Math.abs((q.doubleQuant?.offset ?? 0) - (entry.offset ?? 0))).toBeLessThanOrEqual(1e-7);
        expect(q.doubleQuant?.absmax.length).toBe(Math.ceil(size / 64 / DOUBLE_QUANT_BLOCK_SIZE));
      }
      const absmax = nf4Absmax(q);
      const expectedAbsmax = floats(entry.absmax_b64);
      let worst = 0;
      absmax.forEach((value, index) => {
        worst = Math.max(worst, Math.abs(value - (expectedAbsmax[index] as number)));
      });
      const values = dequantizeNf4(q);
      const expected = floats(entry.dequantized_b64);
      expect(values.length).toBe(size);
      values.forEach((value, index) => {
        worst = Math.max(worst, Math.abs(value - (expected[index] as number)));
      });
      expect(worst).toBeLessThanOrEqual(1e-7);
    });
  }

  it("storage: 4 bits per weight plus 4 bytes per 64 (fp32 absmax) or ~1 byte per 64 (double quantised)", () => {
    const data = inputs(40 * 416, 3, 0.02, 101);
    const plain = quantizeNf4(data, [40, 416]);
    const double = quantizeNf4(data, [40, 416], { doubleQuant: true });
    expect(nf4Bytes(plain)).toBe(8320 + 4 * 260);
    expect(nf4Bytes(double)).toBe(8320 + 260 + 4 * 2 + 4);
    expect(data.byteLength / nf4Bytes(plain)).toBeCloseTo(32 / 4.5, 6);
  });

  it("a 768x768 weight (BERT-base): 2,359,296 bytes in fp32, 331,776 in NF4, 304,276 double-quantised", () => {
    const data = inputs(768 * 768, 4, 0.02, 0);
    expect(data.byteLength).toBe(2_359_296);
    expect(nf4Bytes(quantizeNf4(data, [768, 768]))).toBe(331_776);
    expect(nf4Bytes(quantizeNf4(data, [768, 768], { doubleQuant: true }))).toBe(304_276);
  });
});

describe("quantizeNf4 properties", () => {
  it("every value comes back as its block's absmax times the NF4 value nearest to value/absmax", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }), {
          minLength: 1,
          maxLength: 200,
        }),
        (raw) => {
          const data = Float32Array.from(raw);
          const q = quantizeNf4(data, [data.length]);
          const codes = nf4Codes(q);
          const absmax = nf4Absmax(q);
          const values = dequantizeNf4(q);
          data.forEach((x, index) => {
            const scale = absmax[Math.floor(index / 64)] as number;
            // Brute force: no code is strictly nearer to x/absmax than the chosen one. (An all-zero
            // block scales 0·∞ = NaN to code 0, as bitsandbytes; its values are 0 all the same.)
            if (scale > 0) {
              const y = Math.fround(x * Math.fround(1 / scale));
              const chosen = Math.abs((NF4_CODE[codes[index] as number] as number) - y);
              for (const value of NF4_CODE) expect(Math.abs(value - y)).toBeGreaterThanOrEqual(chosen - 1e-7);
            }
            expect(Math.abs((values[index] as number) - x)).toBeLessThanOrEqual(scale * 0.16 + 1e-7);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("an all-zero block gets code 0 (NaN scaled values, as bitsandbytes) and dequantises to zeros", () => {
    const q = quantizeNf4(new Float32Array(64), [64]);
    expect([...nf4Codes(q)].every((code) => code === 0)).toBe(true);
    expect([...dequantizeNf4(q)].every((v) => v === 0)).toBe(true);
  });
});

describe("quantizeNf4 errors", () => {
  it("rejects bad shapes, sizes, block sizes and values", () => {
    const run = (f: () => unknown, message: string) => {
      expect(f).toThrowError(PeftError);
      expect(f).toThrowError(message);
    };
    run(() => quantizeNf4([1, 2], [0]), "quantizeNf4: shape[0]: expected a positive integer, got 0");
    run(() => quantizeNf4([1, 2, 3], [2]), "quantizeNf4: data: expected 2 values for shape [2], got 3");
    run(
      () => quantizeNf4([1, 2], [2], { blockSize: 3 }),
      "quantizeNf4: blockSize: expected an even integer >= 2, got 3",
    );
    run(() => quantizeNf4([1, Number.NaN], [2]), "quantizeNf4: data[1]: expected a finite number, got NaN");
  });
});
