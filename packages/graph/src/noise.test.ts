import { describe, expect, it } from "vitest";
import { dropout } from "./composites.js";
import { evaluate } from "./evaluate.js";
import { Graph } from "./graph.js";
import { hashUniformLike } from "./noise.js";
import { values } from "./test-utils/check-grads.js";

async function draw(seed: number, key: number, n = 20000) {
  const graph = new Graph();
  const x = graph.input("x", "float64", ["n"]);
  const k = graph.input("key", "int64", []);
  const result = await evaluate(
    { u: hashUniformLike(x, seed, k) },
    { x: { data: new Float64Array(n), dims: [n] }, key: { data: BigInt64Array.of(BigInt(key)), dims: [] } },
  );
  return values(result.u);
}

describe("hashUniformLike", () => {
  it("is uniform on [0, 1), uncorrelated between neighbours, and a pure function of (seed, key)", async () => {
    const u = await draw(3, 17);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const mean = u.reduce((s, v) => s + v, 0) / u.length;
    const variance = u.reduce((s, v) => s + (v - mean) ** 2, 0) / u.length;
    // Uniform: mean 1/2 (sd of the mean 0.002), variance 1/12.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.005);
    let lag = 0;
    for (let i = 1; i < u.length; i += 1) lag += ((u[i] ?? 0) - mean) * ((u[i - 1] ?? 0) - mean);
    expect(Math.abs(lag / (u.length - 1) / variance)).toBeLessThan(0.03);
    // Ten equal bins each hold about a tenth (chi-square with 9 degrees of freedom, p ≈ 0.001 at 27.9).
    const bins = new Array<number>(10).fill(0);
    for (const v of u) bins[Math.floor(v * 10)] = (bins[Math.floor(v * 10)] ?? 0) + 1;
    const chi = bins.reduce((s, count) => s + (count - u.length / 10) ** 2 / (u.length / 10), 0);
    expect(chi).toBeLessThan(27.9);
    expect(await draw(3, 17)).toEqual(u);
    expect(await draw(3, 18)).not.toEqual(u);
    expect(await draw(4, 17)).not.toEqual(u);
  });

  it("gives neighbouring seeds and keys noise that is no shifted copy of each other's", async () => {
    const n = 100000;
    const base = await draw(5, 17, n);
    for (const [seed, key] of [
      [6, 17],
      [4, 17],
      [5, 18],
      [5, 16],
    ] as const) {
      const other = await draw(seed, key, n);
      // A copy shifted by any amount below n would share most values; unrelated draws share a
      // handful (about n² / 2³¹ before the squarings shrink the range).
      const seen = new Set(base);
      const shared = other.filter((v) => seen.has(v)).length;
      expect(shared).toBeLessThan(n / 100);
      // Small shifts, both ways: uncorrelated (sd of each correlation about 1/√4000 ≈ 0.016).
      const m = 4000;
      for (let shift = -32; shift <= 32; shift += 1) {
        let sum = 0;
        for (let i = 64; i < 64 + m; i += 1) sum += ((base[i] ?? 0) - 0.5) * ((other[i + shift] ?? 0) - 0.5);
        expect(Math.abs((sum / m) * 12)).toBeLessThan(0.08);
      }
    }
  });

  it("drives dropout masks that repeat for a key and change with it", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", [1000]);
    const key = graph.input("key", "int64", []);
    const y = dropout(x, 0.3, 9, true, key);
    const run = async (k: bigint) =>
      values(
        (
          await evaluate(
            { y },
            {
              x: { data: new Float32Array(1000).fill(1), dims: [1000] },
              key: { data: BigInt64Array.of(k), dims: [] },
            },
          )
        ).y,
      );
    const first = await run(1n);
    const kept = first.filter((v) => v !== 0).length / 1000;
    expect(kept).toBeGreaterThan(0.65);
    expect(kept).toBeLessThan(0.75);
    expect(await run(1n)).toEqual(first);
    expect(await run(2n)).not.toEqual(first);
  });

  it("matches a BigInt evaluation of the documented hash, element by element", async () => {
    const P = 2147483647n;
    const mix = (seed: number) => {
      let h = seed >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      return BigInt(((h ^ (h >>> 16)) >>> 0) % 2147483647);
    };
    const reference = (seed: number, key: bigint, n: number) => {
      let k = ((key % P) + mix(seed)) % P;
      for (const c of [1442695041n, 1597334677n]) k = (k * k + c) % P;
      const m = (k % (P - 1n)) + 1n;
      return Array.from({ length: n }, (_, i) => {
        let h = (((BigInt(i) % P) + 1n) * m) % P;
        for (const c of [12345n, 1013904223n, 362436069n]) h = (h * h + c) % P;
        return Number(h) / 2147483647;
      });
    };
    for (const [seed, key] of [
      [3, 17n],
      [2147483646, 123456789012n],
    ] as const) {
      expect(await draw(seed, Number(key), 3000)).toEqual(reference(seed, key, 3000));
    }
  });

  it("keyed dropout keeps exactly the elements whose noise reaches the rate, in float32 and float64", async () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const rate of [0.1, 0.3, 0.5]) {
        const n = 5000;
        const graph = new Graph();
        const x = graph.input("x", dtype, [n]);
        const key = graph.input("key", "int64", []);
        const result = await evaluate(
          { y: dropout(x, rate, 11, true, key), u: hashUniformLike(x, 11, key) },
          {
            x: {
              data: dtype === "float32" ? new Float32Array(n).fill(1) : new Float64Array(n).fill(1),
              dims: [n],
            },
            key: { data: BigInt64Array.of(5n), dims: [] },
          },
        );
        const y = values(result.y);
        const u = values(result.u);
        const threshold = dtype === "float32" ? Math.fround(rate) : rate;
        const scale = dtype === "float32" ? Math.fround(1 / (1 - rate)) : 1 / (1 - rate);
        expect(y).toEqual(u.map((v) => (v >= threshold ? scale : 0)));
      }
    }
  });

  it("validates key and seed", () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", [2]);
    expect(() => hashUniformLike(x, 1, graph.input("k", "int64", [1]))).toThrow(
      "hashUniformLike: key: expected an int64 scalar, got int64[1]",
    );
    expect(() => hashUniformLike(x, -1, graph.input("j", "int64", []))).toThrow(
      "hashUniformLike: seed: expected an integer in [0, 2147483647), got -1",
    );
  });
});
