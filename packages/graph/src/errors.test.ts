import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import { add, randomUniformLike, where } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { Graph, type Tensor } from "./graph.js";
import { concat, gather, scatterAdd, slice } from "./indexing.js";
import { toOnnx } from "./onnx.js";
import { scan } from "./scan.js";
import { matmul, reduceMax, reduceSum, reshape } from "./structural.js";

describe("GraphError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new GraphError("matmul", "inner dims", "equal", "[2,3] and [4,5]");
    expect(error.message).toBe("matmul: inner dims: expected equal, got [2,3] and [4,5]");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("GraphError");
  });

  it("every remaining message of the builder", () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [2, 3]);
    const v = graph.input("v", "float64", [3]);
    const i = graph.input("i", "int64", [2]);
    const f = graph.input("f", "float32", [3, 2]);
    const b = graph.input("b", "bool", [2, 3]);
    const cases: [() => unknown, string][] = [
      [() => matmul(v, x), "matmul: operands: expected tensors of rank >= 2, got [3] and [2,3]"],
      [() => matmul(x, f), "matmul: dtypes: expected equal dtypes, got float64 and float32"],
      [() => reduceMax(i), "reduceMax: x: expected a float tensor, got int64"],
      [() => reduceSum(x, [0, 0]), "reduceSum: axes: expected distinct axes, got [0,0]"],
      [() => concat([x, f], 0), "concat: tensors: expected float64 tensors of rank 2, got float32 [3,2]"],
      [() => reshape(x, [-2]), "reshape: target[0]: expected an integer >= -1, got -2"],
      [() => reshape(x, [-1, -1]), "reshape: target: expected at most one -1, got [-1,-1]"],
      [() => reshape(x, [1, 2, 0]), "reshape: target[2]: expected a 0 only within rank 2, got 0"],
      [() => slice(x, 0, 0.5), "slice: start/end: expected integers, got 0.5/undefined"],
      [
        () => gather(graph.constant(Float64Array.of(1), []), i),
        "gather: x: expected a tensor of rank >= 1, got a scalar",
      ],
      [() => scatterAdd(x, x, x), "scatterAdd: indices: expected an int64 tensor, got float64"],
      [() => scatterAdd(x, i, f), "scatterAdd: updates: expected dtype float64, got float32"],
      [() => where(x, x, x), "where: condition: expected a bool tensor, got float64"],
      [() => where(b, x, f), "where: dtypes: expected equal dtypes, got float64 and float32"],
      [
        () => randomUniformLike(i, 1),
        "randomUniformLike: x: expected a float32 or float64 tensor, got int64",
      ],
      [
        () => graph.initializer("w", Float64Array.of(1), [2]),
        "Graph.initializer: data: expected 2 elements for shape [2], got 1",
      ],
    ];
    for (const [run, message] of cases) expect(run).toThrow(message);
  });

  it("scan bodies: no initializers inside, only root graphs serialise, first-order gradients", () => {
    const graph = new Graph();
    const xs = graph.input("xs", "float64", [2, 3]);
    const h = graph.input("h", "float64", [3]);
    const seen: Tensor[] = [];
    expect(() =>
      scan(
        ([c], [x]) => {
          const next = add(c as Tensor, x as Tensor);
          seen.push(next);
          next.graph.initializer("w", Float64Array.of(1), [1]);
          return { carry: [next], ys: [] };
        },
        [h],
        [xs],
      ),
    ).toThrow("Graph.initializer: graph: expected the root graph, got a Scan body");
    expect(() => toOnnx({ y: seen[0] as Tensor })).toThrow(
      "toOnnx: outputs: expected tensors of a root graph, got tensors of a Scan body",
    );
    const { carry, ys } = scan(([c], [x]) => ({ carry: [add(c as Tensor, x as Tensor)], ys: [] }), [h], [xs]);
    const [g] = grad(reduceSum(carry[0] as Tensor), [h]);
    expect(g).toBeDefined();
    expect(ys).toEqual([]);
  });
});
