import { describe, expect, it } from "vitest";
import { grad, vjp } from "./autodiff.js";
import { exp, mul, sub } from "./elementwise.js";
import { evaluate } from "./evaluate.js";
import { apply1, Graph, type Primitive, type Tensor } from "./graph.js";
import { matmul, reduceSum } from "./structural.js";
import { values } from "./test-utils/check-grads.js";

describe("grad", () => {
  it("sums the gradients of a value used several times (fan-out)", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [2]);
    // f = Σ x·x·x - x  →  df/dx = 3x² - 1
    const [g] = grad(reduceSum(sub(mul(mul(x, x), x), x)), [x]);
    const result = await evaluate({ g: g as Tensor }, { x: { data: Float64Array.of(2, -3), dims: [2] } });
    expect(values(result.g)).toEqual([11, 26]);
  });

  it("prunes: no work for tensors off the path, zeros for unconnected ones", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [1, 2]);
    const frozen = graph.initializer("frozen", Float64Array.of(1, 2, 3, 4), [2, 2]);
    const w = graph.initializer("w", Float64Array.of(1, 0, 0, 1), [2, 2]);
    const unused = graph.initializer("unused", Float64Array.of(5), [1]);
    const loss = reduceSum(matmul(matmul(x, frozen), w));
    const before = graph.nodes.length;
    const [gw, gUnused] = grad(loss, [w, unused]);
    // d/dw of Σ (x·F)·w needs one MatMul (Fᵀxᵀ·1) and no gradient into x or F.
    const added = graph.nodes.slice(before).map((node) => node.op);
    expect(added.filter((op) => op === "MatMul")).toHaveLength(1);
    const result = await evaluate(
      { gw: gw as Tensor, gUnused: gUnused as Tensor },
      { x: { data: Float64Array.of(1, 1), dims: [1, 2] } },
    );
    expect(values(result.gw)).toEqual([4, 4, 6, 6]);
    expect(values(result.gUnused)).toEqual([0]);
    expect(vjp([loss], [null], [w])).toEqual([null]);
  });

  it("names the op when a gradient rule is missing", () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [2]);
    const Softplus: Primitive<null> = {
      name: "Softplus",
      infer: ([input]) => [{ dtype: (input as Tensor).dtype, shape: (input as Tensor).shape }],
      emit: (context, inputs, outputs) => context.node("Softplus", inputs, outputs),
    };
    const y = apply1(Softplus, [x], null);
    expect(() => grad(reduceSum(exp(y)), [x])).toThrow(
      "grad: Softplus: expected a gradient rule, got none for op Softplus",
    );
  });

  it("checks the loss and wrt", () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [2]);
    const i = graph.input("i", "int64", [2]);
    expect(() => grad(x, [x])).toThrow("grad: loss: expected a scalar, got shape [2]");
    expect(() => grad(reduceSum(i), [x])).toThrow(
      "grad: loss: expected a float32 or float64 scalar, got int64",
    );
    expect(() => grad(reduceSum(x), [i])).toThrow("grad: wrt[0]: expected a float tensor, got int64");
  });
});
