import { evaluate, Graph, grad, mul, reduceSum, type Tensor } from "@xlt/graph";
import { bind } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { ScalarMix, TokenScalarMix } from "./scalar-mix.js";
import { maxDifference, numbers } from "./test-utils/values.js";

const [L, N, F] = [3, 4, 2];
const layerData = Array.from({ length: L }, (_, l) =>
  Float64Array.from({ length: N * F }, (_, i) => Math.sin(l * 5 + i)),
);
const weights = [0.3, -1.2, 0.5];
const gamma = 1.7;

function softmaxOf(values: readonly number[]): number[] {
  const top = Math.max(...values);
  const e = values.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe("ScalarMix", () => {
  it("is γ · Σ softmax(w)_l · h_l, and its weight gradient matches central differences", {
    timeout: 30_000,
  }, async () => {
    const mix = new ScalarMix(L, { dtype: "float64" });
    const graph = new Graph();
    const params = bind(mix.parameters, (path, p) => graph.input(path, "float64", p.shape));
    const layers = layerData.map((data) => graph.constant(data, [N, F]));
    const out = mix.forward(params, layers);
    const r = graph.constant(
      Float64Array.from({ length: N * F }, (_, i) => Math.cos(i)),
      [N, F],
    );
    const loss = reduceSum(mul(out, r));
    const [dw] = grad(loss, [graph.inputs.find((t) => t.name === "weights") as Tensor]) as Tensor[];
    const run = (w: number[]) =>
      evaluate(
        { out, loss, dw: dw as Tensor },
        {
          weights: { data: Float64Array.from(w), dims: [L] },
          gamma: { data: Float64Array.of(gamma), dims: [1] },
        },
      );
    const result = await run(weights);
    const s = softmaxOf(weights);
    const expected = Array.from(
      { length: N * F },
      (_, i) => gamma * layerData.reduce((sum, data, l) => sum + (s[l] ?? 0) * (data[i] ?? 0), 0),
    );
    expect(maxDifference(numbers(result.out), expected)).toBeLessThan(1e-12);
    const h = 1e-6;
    for (let l = 0; l < L; l += 1) {
      const plus = await run(weights.map((w, k) => (k === l ? w + h : w)));
      const minus = await run(weights.map((w, k) => (k === l ? w - h : w)));
      const fd = ((numbers(plus.loss)[0] ?? 0) - (numbers(minus.loss)[0] ?? 0)) / (2 * h);
      expect(Math.abs((numbers(result.dw)[l] ?? 0) - fd)).toBeLessThan(1e-7);
    }
  });

  it("starts as an even mix", { timeout: 30_000 }, async () => {
    const mix = new ScalarMix(2);
    expect(mix.parameters.weights).toBeDefined();
    expect(() => new ScalarMix(0)).toThrow(new HeadsError("ScalarMix", "layers", "a positive integer", "0"));
    const graph = new Graph();
    const params = bind(mix.parameters, (path, p) => graph.input(path, "float32", p.shape));
    expect(() => mix.forward(params, [graph.constant(new Float32Array(2), [2])])).toThrow(
      "ScalarMix.forward: layers: expected 2 tensors, got 1",
    );
  });
});

describe("TokenScalarMix", () => {
  it("mixes each token with its own softmax weights (direct computation)", { timeout: 30_000 }, async () => {
    const mix = new TokenScalarMix(L, F, { dtype: "float64" });
    const graph = new Graph();
    const params = bind(mix.parameters, (path, p) => graph.input(path, "float64", p.shape));
    const out = mix.forward(
      params,
      layerData.map((data) => graph.constant(data, [N, F])),
    );
    const vector = [0.4, -0.9];
    const bias = [0.1, 0.2, -0.3];
    const result = await evaluate(
      { out },
      {
        vector: { data: Float64Array.from(vector), dims: [F, 1] },
        bias: { data: Float64Array.from(bias), dims: [L] },
        gamma: { data: Float64Array.of(gamma), dims: [1] },
      },
    );
    const expected: number[] = [];
    for (let n = 0; n < N; n += 1) {
      const scores = layerData.map(
        (data, l) =>
          (data[n * F] ?? 0) * (vector[0] ?? 0) + (data[n * F + 1] ?? 0) * (vector[1] ?? 0) + (bias[l] ?? 0),
      );
      const s = softmaxOf(scores);
      for (let f = 0; f < F; f += 1)
        expected.push(
          gamma * layerData.reduce((sum, data, l) => sum + (s[l] ?? 0) * (data[n * F + f] ?? 0), 0),
        );
    }
    expect(maxDifference(numbers(result.out), expected)).toBeLessThan(1e-12);
    expect(() => new TokenScalarMix(2, 0)).toThrow(
      "TokenScalarMix: features: expected a positive integer, got 0",
    );
    expect(() => new TokenScalarMix(0, 2)).toThrow(
      "TokenScalarMix: layers: expected a positive integer, got 0",
    );
  });
});
