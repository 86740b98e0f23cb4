import { concat, evaluate, Graph, grad, mul, reduceSum, type Tensor } from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { joinLast } from "./join.js";
import { numbers } from "./test-utils/values.js";

describe("joinLast", () => {
  it("equals concat on the last axis, value and gradient", { timeout: 30_000 }, async () => {
    const graph = new Graph();
    const a = graph.input("a", "float64", ["batch", 2]);
    const b = graph.input("b", "float64", ["batch", 3]);
    const joined = joinLast([a, b]);
    const reference = concat([a, b], 1);
    const r = graph.constant(
      Float64Array.from({ length: 10 }, (_, i) => i - 4.5),
      [2, 5],
    );
    const [da, db] = grad(reduceSum(mul(joined, r)), [a, b]) as [Tensor, Tensor];
    const result = await evaluate(
      { joined, reference, da, db },
      {
        a: { data: Float64Array.from([1.5, -2, 3, 4.25]), dims: [2, 2] },
        b: { data: Float64Array.from([5, 6, -7, 8, 9, 1e-300]), dims: [2, 3] },
      },
    );
    expect(numbers(result.joined)).toEqual(numbers(result.reference));
    expect(numbers(result.da)).toEqual([-4.5, -3.5, 0.5, 1.5]);
    expect(numbers(result.db)).toEqual([-2.5, -1.5, -0.5, 2.5, 3.5, 4.5]);
  });

  it("needs fixed last dims", () => {
    const graph = new Graph();
    expect(() => joinLast([graph.input("a", "float32", [2, "n"])])).toThrow(
      new HeadsError("joinLast", "tensors", "a fixed last dim on each", "n"),
    );
    expect(() => joinLast([])).toThrow("joinLast: tensors: expected at least one tensor, got none");
  });
});
