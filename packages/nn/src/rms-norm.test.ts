import { evaluate, Graph } from "@xlt/graph";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RmsNorm } from "./rms-norm.js";

const numbers = (value: { data: ArrayLike<number | bigint> } | undefined) =>
  Array.from({ length: value?.data.length ?? 0 }, (_, i) => Number(value?.data[i]));

describe("RmsNorm", () => {
  it("is x / √(mean(x²) + ε) · γ row by row (brute force)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 15, maxLength: 15 }),
        fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 5, maxLength: 5 }),
        async (rows, dim, raw, gain) => {
          const graph = new Graph();
          const norm = new RmsNorm(dim, 1e-5, { dtype: "float64" });
          const x = graph.input("x", "float64", ["rows", dim]);
          const weight = graph.constant(Float64Array.from(gain.slice(0, dim)), [dim]);
          const data = Float64Array.from(raw.slice(0, rows * dim));
          const result = await evaluate(
            { y: norm.forward({ weight }, x) },
            { x: { data, dims: [rows, dim] } },
          );
          const got = numbers(result.y);
          for (let r = 0; r < rows; r += 1) {
            const row = Array.from(data.slice(r * dim, (r + 1) * dim));
            const scale = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / dim + 1e-5);
            for (let j = 0; j < dim; j += 1)
              expect(got[r * dim + j]).toBeCloseTo((row[j] ?? 0) * scale * (gain[j] ?? 0), 10);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it("has one gain of ones without weight decay, and validates its arguments", () => {
    const norm = new RmsNorm(4);
    expect(Object.keys(norm.parameters)).toEqual(["weight"]);
    expect(norm.parameters.weight).toMatchObject({ shape: [4], decay: false, dtype: "float32" });
    expect(() => new RmsNorm(0)).toThrow("RmsNorm: dim: expected a positive integer, got 0");
    expect(() => new RmsNorm(2, 0)).toThrow("RmsNorm: epsilon: expected a finite number > 0, got 0");
  });
});
