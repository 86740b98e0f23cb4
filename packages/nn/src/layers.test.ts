import { evaluate, Graph, Tensor } from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { Dropout, Embedding, LayerNorm, Linear, Mlp } from "./layers.js";
import { bind, initialize, type ParameterTree } from "./parameters.js";

/** Binds a tree to float64 constants holding its seeded initial values. */
function constants(graph: Graph, tree: ParameterTree, seed: number) {
  const values = initialize(tree, seed);
  return {
    values,
    params: bind(tree, (path, parameter) =>
      graph.constant(Float64Array.from(values.get(path) ?? []), parameter.shape),
    ),
  };
}

const numbers = (value: { data: ArrayLike<number | bigint> } | undefined) =>
  Array.from({ length: value?.data.length ?? 0 }, (_, i) => Number(value?.data[i]));

describe("layers", () => {
  it("Linear computes x·W + b", async () => {
    const graph = new Graph();
    const layer = new Linear(3, 2, { dtype: "float64" });
    const { values, params } = constants(graph, layer.parameters, 3);
    const x = graph.input("x", "float64", ["n", 3]);
    const result = await evaluate(
      { y: layer.forward(params, x) },
      { x: { data: Float64Array.of(1, 2, 3), dims: [1, 3] } },
    );
    const w = Array.from(values.get("weight") ?? []);
    const b = Array.from(values.get("bias") ?? []);
    const expected = [0, 1].map(
      (j) => (b[j] ?? 0) + [1, 2, 3].reduce((s, xi, i) => s + xi * (w[i * 2 + j] ?? 0), 0),
    );
    for (const [j, v] of numbers(result.y).entries()) expect(v).toBeCloseTo(expected[j] ?? 0, 12);
    expect(Object.keys(new Linear(2, 2, { bias: false }).parameters)).toEqual(["weight"]);
  });

  it("Embedding looks rows up and LayerNorm normalises", async () => {
    const graph = new Graph();
    const embedding = new Embedding(4, 3, { dtype: "float64" });
    const norm = new LayerNorm(3, 1e-5, { dtype: "float64" });
    const e = constants(graph, embedding.parameters, 1);
    const n = constants(graph, norm.parameters, 1);
    const ids = graph.input("ids", "int64", ["n"]);
    const rows = embedding.forward(e.params, ids);
    const result = await evaluate(
      { rows, normed: norm.forward(n.params, rows) },
      { ids: { data: BigInt64Array.of(3n, 0n), dims: [2] } },
    );
    const table = Array.from(e.values.get("weight") ?? []);
    expect(numbers(result.rows)).toEqual([...table.slice(9, 12), ...table.slice(0, 3)]);
    const row = table.slice(9, 12);
    const mean = row.reduce((s, v) => s + v, 0) / 3;
    const sd = Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / 3 + 1e-5);
    for (const [i, v] of numbers(result.normed).slice(0, 3).entries())
      expect(v).toBeCloseTo(((row[i] ?? 0) - mean) / sd, 10);
    expect(() => embedding.forward(e.params, graph.input("f", "float64", [1]))).toThrow(
      "Embedding.forward: ids: expected an int64 tensor, got float64",
    );
  });

  it("Mlp gives each hidden layer its own dropout mask", async () => {
    // Identity weights, zero biases and positive inputs: the output is x·4 where both hidden masks
    // keep an element, else 0. Independent masks at rate 1/2 keep about a quarter; one shared mask
    // (the same seed for both same-width layers) would keep half.
    const n = 1000;
    const mlp = new Mlp([n, n, n, n], { dropout: 0.5, seed: 3, dtype: "float64" });
    const graph = new Graph();
    const params = bind(mlp.parameters, (path, parameter) => {
      const data = new Float64Array(parameter.shape.reduce((a, b) => a * b, 1));
      if (path.endsWith("weight")) for (let i = 0; i < n; i += 1) data[i * n + i] = 1;
      return graph.constant(data, parameter.shape);
    });
    const x = graph.input("x", "float64", [1, n]);
    const key = graph.input("key", "int64", []);
    const result = await evaluate(
      {
        keyed: mlp.forward(params, x, { training: true, key }),
        unkeyed: mlp.forward(params, x, { training: true }),
      },
      {
        x: { data: new Float64Array(n).fill(1), dims: [1, n] },
        key: { data: BigInt64Array.of(7n), dims: [] },
      },
    );
    for (const output of [numbers(result.keyed), numbers(result.unkeyed)]) {
      expect(new Set(output)).toEqual(new Set([0, 4]));
      const kept = output.filter((v) => v !== 0).length / n;
      expect(kept).toBeGreaterThan(0.2);
      expect(kept).toBeLessThan(0.3);
    }
  });

  it("Mlp chains layers; Dropout is the identity in evaluation", async () => {
    const mlp = new Mlp([4, 8, 3], { activation: "gelu", dropout: 0.1, seed: 1 });
    expect(Object.keys(mlp.parameters)).toEqual(["layer0", "layer1"]);
    const graph = new Graph();
    const { params } = constants(graph, mlp.parameters, 0);
    const x = graph.input("x", "float64", ["n", 4]);
    expect(mlp.forward(params, x, { training: false }).shape).toEqual(["n", 3]);
    const drop = new Dropout(0.5, 1);
    expect(drop.forward({}, x, { training: false })).toBe(x);
    expect(drop.forward({}, x, { training: true })).toBeInstanceOf(Tensor);
    expect(() => new Mlp([4])).toThrow("Mlp: sizes: expected at least two sizes, got [4]");
    const options: { activation: "relu" } = JSON.parse('{"activation": "sigmoid"}');
    expect(() => new Mlp([4, 2], options)).toThrow(
      'Mlp: activation: expected one of relu, gelu, tanh, got "sigmoid"',
    );
    expect(() => new Mlp([4, 2], JSON.parse('{"activation": "toString"}'))).toThrow(
      'Mlp: activation: expected one of relu, gelu, tanh, got "toString"',
    );
    expect(() => new Linear(0, 1)).toThrow("Linear: inFeatures: expected a positive integer, got 0");
    expect(() => new Dropout(1, 0)).toThrow("Dropout: rate: expected a number in [0, 1), got 1");
  });
});
