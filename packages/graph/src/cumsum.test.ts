import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cumsum } from "./cumsum.js";
import { evaluate } from "./evaluate.js";
import { Graph } from "./graph.js";
import { checkGrads, randomInput, rng, values } from "./test-utils/check-grads.js";

describe("cumsum", () => {
  it("is the running sum along an axis, forwards and reversed (brute force)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (rows, columns, reverse, seed) => {
          const input = randomInput([rows, columns], rng(seed));
          const graph = new Graph();
          const x = graph.input("x", "float64", ["rows", columns]);
          const out = await evaluate(
            { y: cumsum(x, 1, reverse) },
            { x: { data: input.data, dims: [rows, columns] } },
          );
          const expected: number[] = [];
          for (let r = 0; r < rows; r += 1)
            for (let c = 0; c < columns; c += 1) {
              let sum = 0;
              const [from, to] = reverse ? [c, columns - 1] : [0, c];
              for (let k = from; k <= to; k += 1) sum += input.data[r * columns + k] as number;
              expected.push(sum);
            }
          values(out.y).forEach((value, i) => {
            expect(value).toBeCloseTo(expected[i] as number, 12);
          });
        },
      ),
      { numRuns: 10 },
    );
  });

  it("counts positions on int64 (cumsum of ones − 1)", async () => {
    const graph = new Graph();
    const x = graph.input("x", "int64", [2, "steps"]);
    const out = await evaluate(
      { y: cumsum(x, -1) },
      { x: { data: new BigInt64Array(6).fill(1n), dims: [2, 3] } },
    );
    expect(values(out.y)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it("has a gradient that matches central differences", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 1_000_000 }),
        async (shape, reverse, seed) => {
          const axis = seed % shape.length;
          const error = await checkGrads(
            (x) => cumsum(x, axis, reverse),
            [randomInput(shape, rng(seed))],
            seed,
          );
          expect(error).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 10 },
    );
  });

  it("rejects a bool tensor", () => {
    const graph = new Graph();
    const x = graph.input("x", "bool", [3]);
    expect(() => cumsum(x, 0)).toThrow("cumsum: x: expected a numeric tensor, got bool");
  });
});
