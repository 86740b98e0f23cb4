import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import { crossEntropy, softmax } from "./composites.js";
import { add, div, mul, sigmoid, tanh, where } from "./elementwise.js";
import { evaluate, type TensorValue } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { slice } from "./indexing.js";
import { scan } from "./scan.js";
import { matmul, reduceSum, transpose, transposeLast, unsqueeze } from "./structural.js";
import { values } from "./test-utils/check-grads.js";

// Reference values and gradients from torch autograd: fixtures/make_fixtures.py.
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/torch-reference.json", import.meta.url), "utf8"),
);

const f64 = (data: number[], dims: number[]): TensorValue => ({ data: Float64Array.from(data), dims });

function maxError(actual: TensorValue | undefined, expected: number[]): number {
  const got = values(actual);
  expect(got).toHaveLength(expected.length);
  return Math.max(...expected.map((value, index) => Math.abs(value - (got[index] ?? Number.NaN))));
}

function keepMask(graph: Graph, lengths: number[], steps: number): Tensor {
  return graph.constant(
    Uint8Array.from(lengths.flatMap((n) => Array.from({ length: steps }, (_, t) => (t < n ? 1 : 0)))),
    [lengths.length, steps],
  );
}

describe("graph gradients match torch autograd (float64)", () => {
  it("an LSTM cell in a Scan over variable lengths", async () => {
    const { batch: B, steps: T, features: D, hidden: H, lengths } = reference.lstm;
    const graph = new Graph();
    const x = graph.input("x", "float64", [B, "steps", D]);
    const h0 = graph.input("h0", "float64", [B, H]);
    const c0 = graph.input("c0", "float64", [B, H]);
    const wih = graph.input("weight_ih", "float64", [4 * H, D]);
    const whh = graph.input("weight_hh", "float64", [4 * H, H]);
    const bih = graph.input("bias_ih", "float64", [4 * H]);
    const bhh = graph.input("bias_hh", "float64", [4 * H]);
    const mask = keepMask(graph, lengths, T);
    const wihT = transpose(wih, [1, 0]); // shape: [D, 4H]
    const whhT = transpose(whh, [1, 0]); // shape: [H, 4H]
    const bias = add(bih, bhh);
    const { carry, ys } = scan(
      ([h, c], [xt, keep]) => {
        const gates = add(add(matmul(xt as Tensor, wihT), matmul(h as Tensor, whhT)), bias); // shape: [B, 4H]
        const i = sigmoid(slice(gates, 1, 0, H));
        const f = sigmoid(slice(gates, 1, H, 2 * H));
        const g = tanh(slice(gates, 1, 2 * H, 3 * H));
        const o = sigmoid(slice(gates, 1, 3 * H, 4 * H));
        const cNew = add(mul(f, c as Tensor), mul(i, g));
        const hNew = mul(o, tanh(cNew));
        const m = unsqueeze(keep as Tensor, [-1]); // shape: [B, 1]
        const hNext = where(m, hNew, h as Tensor);
        return { carry: [hNext, where(m, cNew, c as Tensor)], ys: [hNext] };
      },
      [h0, c0],
      [x, mask],
      { axis: 1 },
    );
    const r = graph.constant(Float64Array.from(reference.lstm.r), [B, T, H]);
    const s = graph.constant(Float64Array.from(reference.lstm.s), [B, H]);
    const loss = add(reduceSum(mul(ys[0] as Tensor, r)), reduceSum(mul(carry[1] as Tensor, s)));
    const wrt = { x, h0, c0, weight_ih: wih, weight_hh: whh, bias_ih: bih, bias_hh: bhh };
    const grads = grad(loss, Object.values(wrt));
    const outputs: Record<string, Tensor> = { loss };
    Object.keys(wrt).forEach((name, index) => {
      outputs[`d_${name}`] = grads[index] as Tensor;
    });
    const lstm = reference.lstm;
    const result = await evaluate(outputs, {
      x: f64(lstm.x, [B, T, D]),
      h0: f64(lstm.h0, [B, H]),
      c0: f64(lstm.c0, [B, H]),
      weight_ih: f64(lstm.weight_ih, [4 * H, D]),
      weight_hh: f64(lstm.weight_hh, [4 * H, H]),
      bias_ih: f64(lstm.bias_ih, [4 * H]),
      bias_hh: f64(lstm.bias_hh, [4 * H]),
    });
    expect(maxError(result.loss, [lstm.loss])).toBeLessThan(1e-12);
    for (const name of Object.keys(wrt))
      expect(maxError(result[`d_${name}`], lstm.grad[name])).toBeLessThan(1e-10);
  });

  it("masked scaled dot-product attention", async () => {
    const { batch: B, steps: T, dim: D, lengths } = reference.attention;
    const graph = new Graph();
    const [q, k, v] = ["q", "k", "v"].map((name) => graph.input(name, "float64", [B, "steps", D])) as [
      Tensor,
      Tensor,
      Tensor,
    ];
    const keep = unsqueeze(keepMask(graph, lengths, T), [1]); // shape: [B, 1, T]
    const scores = where(keep, div(matmul(q, transposeLast(k)), Math.sqrt(D)), -1e9); // shape: [B, T, T]
    const out = matmul(softmax(scores, -1), v);
    const loss = reduceSum(mul(out, graph.constant(Float64Array.from(reference.attention.r), [B, T, D])));
    const [dq, dk, dv] = grad(loss, [q, k, v]) as [Tensor, Tensor, Tensor];
    const attention = reference.attention;
    const result = await evaluate(
      { out, loss, dq, dk, dv },
      { q: f64(attention.q, [B, T, D]), k: f64(attention.k, [B, T, D]), v: f64(attention.v, [B, T, D]) },
    );
    // ORT's extended optimisations fuse MatMul and the scalar division into FusedMatMul, whose
    // alpha attribute is a float32: about 1e-8 relative error even in float64 graphs.
    expect(maxError(result.out, attention.out)).toBeLessThan(1e-7);
    expect(maxError(result.dq, attention.grad.q)).toBeLessThan(1e-7);
    expect(maxError(result.dk, attention.grad.k)).toBeLessThan(1e-7);
    expect(maxError(result.dv, attention.grad.v)).toBeLessThan(1e-7);
  });

  it("an MLP with cross-entropy and ignored labels", async () => {
    const mlp = reference.mlp;
    const graph = new Graph();
    const x = graph.constant(Float64Array.from(mlp.x), [6, 4]);
    const y = graph.constant(
      BigInt64Array.from(mlp.y, (label: number) => BigInt(label)),
      [6],
    );
    const w1 = graph.input("w1", "float64", [4, 5]);
    const b1 = graph.input("b1", "float64", [5]);
    const w2 = graph.input("w2", "float64", [5, 3]);
    const b2 = graph.input("b2", "float64", [3]);
    const loss = crossEntropy(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2), y, -100);
    const [d1, e1, d2, e2] = grad(loss, [w1, b1, w2, b2]) as [Tensor, Tensor, Tensor, Tensor];
    const result = await evaluate(
      { loss, d1, e1, d2, e2 },
      { w1: f64(mlp.w1, [4, 5]), b1: f64(mlp.b1, [5]), w2: f64(mlp.w2, [5, 3]), b2: f64(mlp.b2, [3]) },
    );
    expect(maxError(result.loss, [mlp.loss])).toBeLessThan(1e-12);
    expect(maxError(result.d1, mlp.grad.w1)).toBeLessThan(1e-12);
    expect(maxError(result.e1, mlp.grad.b1)).toBeLessThan(1e-12);
    expect(maxError(result.d2, mlp.grad.w2)).toBeLessThan(1e-12);
    expect(maxError(result.e2, mlp.grad.b2)).toBeLessThan(1e-12);
  });
});
