import {
  add,
  concat,
  evaluate,
  Graph,
  grad,
  matmul,
  mul,
  reduceSum,
  scan,
  slice,
  type Tensor,
  tanh,
  zerosLike,
} from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { joinLast } from "./join.js";
import { maxDifference, numbers } from "./test-utils/values.js";

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

  it("joins symbolic widths", async () => {
    const graph = new Graph();
    const a = graph.input("a", "float64", [2, "n"]);
    const b = graph.input("b", "float64", [2, "m"]);
    const joined = joinLast([a, b]); // shape: [2, n+m]
    const result = await evaluate(
      { joined },
      {
        a: { data: Float64Array.from([1, 2, 3, 4]), dims: [2, 2] },
        b: { data: Float64Array.from([5, 6]), dims: [2, 1] },
      },
    );
    expect(numbers(result.joined)).toEqual([1, 2, 5, 3, 4, 6]);
  });

  it("inside a Scan body, with a symbolic batch: gradients equal the same cell without a join", {
    timeout: 30_000,
  }, async () => {
    const graph = new Graph();
    const xs = graph.input("xs", "float64", ["batch", "steps", 1]);
    const w = graph.input("w", "float64", [3, 2]);
    const h0 = zerosLike(reduceSum(graph.input("h0", "float64", ["batch", 2, 2]), [2])); // shape: [batch, 2]
    const run = (cell: (h: Tensor, x: Tensor) => Tensor) =>
      scan(([h], [x]) => ({ carry: [tanh(cell(h as Tensor, x as Tensor))], ys: [] }), [h0], [xs], { axis: 1 })
        .carry[0] as Tensor;
    const joinedCell = run((h, x) => matmul(joinLast([h, x]), w));
    const plainCell = run((h, x) => add(matmul(h, slice(w, 0, 0, 2)), matmul(x, slice(w, 0, 2, 3))));
    const r = graph.constant(Float64Array.from([0.5, -1, 2, 0.25]), [2, 2]);
    const [dJoined] = grad(reduceSum(mul(joinedCell, r)), [w]) as [Tensor];
    const [dPlain] = grad(reduceSum(mul(plainCell, r)), [w]) as [Tensor];
    const result = await evaluate(
      { dJoined, dPlain },
      {
        xs: { data: Float64Array.from([0.3, -1.2, 0.7, 2, -0.4, 1.1]), dims: [2, 3, 1] },
        w: { data: Float64Array.from([0.1, -0.7, 0.4, 0.9, -1.3, 0.6]), dims: [3, 2] },
        h0: { data: new Float64Array(8), dims: [2, 2, 2] },
      },
    );
    expect(maxDifference(numbers(result.dJoined), numbers(result.dPlain))).toBeLessThan(1e-14);
    expect(numbers(result.dJoined).some((value) => value !== 0)).toBe(true);
  });

  it("needs tensors of one rank", () => {
    const graph = new Graph();
    expect(() => joinLast([graph.input("a", "float32", [2, 3]), graph.input("b", "float32", [3])])).toThrow(
      new HeadsError("joinLast", "tensors", "tensors of rank 2", "rank 1"),
    );
    expect(() => joinLast([])).toThrow("joinLast: tensors: expected at least one tensor, got none");
  });
});
