import { readFileSync } from "node:fs";
import {
  apply,
  concat,
  evaluate,
  Graph,
  grad,
  mul,
  type Primitive,
  reduceSum,
  reshape,
  type Tensor,
  type TensorValue,
  transpose,
  unsqueeze,
} from "@xlt/graph";
import { bind, flatten, initialize } from "@xlt/nn";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { BiLstm } from "./lstm.js";
import { maskData, maxDifference, numbers } from "./test-utils/values.js";

// Reference values and gradients from torch autograd: fixtures/make_fixtures.py.
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/torch-reference.json", import.meta.url), "utf8"),
);

const f64 = (data: readonly number[], dims: readonly number[]): TensorValue => ({
  data: Float64Array.from(data),
  dims,
});

describe("BiLstm gradients equal torch nn.LSTM (float64, packed sequences)", () => {
  it("2 layers, bidirectional, variable lengths: output, h_n, loss and every gradient", {
    timeout: 30_000,
  }, async () => {
    const ref = reference.bilstm;
    const { batch: B, steps: T, features: D, hidden: H, layers: L, lengths } = ref;
    const lstm = new BiLstm({ inputSize: D, hiddenSize: H, layers: L, dtype: "float64" });
    const graph = new Graph();
    const x = graph.input("x", "float64", [B, "steps", D]);
    const params = bind(lstm.parameters, (path, parameter) => graph.input(path, "float64", parameter.shape));
    const mask = graph.constant(maskData(lengths, T), [B, T]);
    const { output, hidden } = lstm.forward(params, { x, mask }, { training: true });
    const hN = concat(
      hidden.map((h) => unsqueeze(h, [0])),
      0,
    ); // shape: [2L, B, H]
    const r = graph.constant(Float64Array.from(ref.r), [B, T, 2 * H]);
    const s = graph.constant(Float64Array.from(ref.s), [2 * L, B, H]);
    const loss = reduceSum(concat([reshape(mul(output, r), [-1]), reshape(mul(hN, s), [-1])], 0));
    const paths = flatten(lstm.parameters).map(([path]) => path);
    const leaves = paths.map((path) => graph.inputs.find((input) => input.name === path) as Tensor);
    const grads = grad(loss, [x, ...leaves]);
    const outputs: Record<string, Tensor> = { loss, output, hN, d_x: grads[0] as Tensor };
    paths.forEach((path, index) => {
      outputs[`d_${path}`] = grads[index + 1] as Tensor;
    });
    const feeds: Record<string, TensorValue> = { x: f64(ref.x, [B, T, D]) };
    for (const [path, parameter] of flatten(lstm.parameters))
      feeds[path] = f64(ref.weights[path], parameter.shape);
    const result = await evaluate(outputs, feeds);
    expect(maxDifference(numbers(result.loss), [ref.loss])).toBeLessThan(1e-10);
    expect(maxDifference(numbers(result.output), ref.out)).toBeLessThan(1e-10);
    expect(maxDifference(numbers(result.hN), ref.h_n)).toBeLessThan(1e-10);
    expect(maxDifference(numbers(result.d_x), ref.grad.x)).toBeLessThan(1e-10);
    expect(paths).toHaveLength(16);
    for (const path of paths)
      expect(maxDifference(numbers(result[`d_${path}`]), ref.grad[path])).toBeLessThan(1e-10);
  });
});

interface OnnxLstmAttrs {
  readonly hidden: number;
  readonly steps: number;
  readonly batch: number;
}

// ONNX's LSTM op (seq-first layout, bidirectional, sequence_lens), for the forward oracle.
const OnnxLstm: Primitive<OnnxLstmAttrs> = {
  name: "OnnxLstm",
  infer: (_inputs, { hidden, steps, batch }) => [
    { dtype: "float32", shape: [steps, 2, batch, hidden] },
    { dtype: "float32", shape: [2, batch, hidden] },
  ],
  emit: (context, inputs, outputs, { hidden }) =>
    context.node("LSTM", inputs, outputs, {
      direction: { string: "bidirectional" },
      hidden_size: { int: hidden },
    }),
};

/** torch's gate blocks (i, f, g, o) reordered to ONNX's (i, o, f, c) for each direction. */
function onnxGates(forward: Float32Array, backward: Float32Array, H: number): Float32Array {
  const rows = forward.length / (4 * H);
  const out = new Float32Array(2 * forward.length);
  [forward, backward].forEach((weights, direction) => {
    [0, 3, 1, 2].forEach((block, position) => {
      out.set(
        weights.subarray(block * H * rows, (block + 1) * H * rows),
        direction * forward.length + position * H * rows,
      );
    });
  });
  return out;
}

describe("BiLstm forward equals ONNX's LSTM op on onnxruntime-node (float32)", () => {
  it("2 bidirectional layers with sequence_lens", { timeout: 30_000 }, async () => {
    const [B, T, D, H] = [4, 6, 5, 3];
    const lengths = [6, 1, 4, 3];
    const lstm = new BiLstm({ inputSize: D, hiddenSize: H, layers: 2, dropout: 0.5 });
    const values = initialize(lstm.parameters, 7);
    const xData = Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(i * 1.7) * 2);
    const graph = new Graph();
    const x = graph.constant(xData, [B, T, D]);
    const params = bind(lstm.parameters, (path, parameter) =>
      graph.constant(values.get(path) as Float32Array, parameter.shape),
    );
    const mask = graph.constant(maskData(lengths, T), [B, T]);
    const mine = lstm.forward(params, { x, mask }, { training: false });
    const sequenceLens = graph.constant(Int32Array.from(lengths), [B]);
    let input = transpose(x, [1, 0, 2]); // shape: [T, B, D]
    const finals: Tensor[] = [];
    for (const layer of [0, 1]) {
      const get = (direction: string, name: string) =>
        values.get(`l${layer}.${direction}.${name}`) as Float32Array;
      const inputs = layer === 0 ? D : 2 * H;
      const W = graph.constant(onnxGates(get("forward", "weight_ih"), get("backward", "weight_ih"), H), [
        2,
        4 * H,
        inputs,
      ]);
      const R = graph.constant(onnxGates(get("forward", "weight_hh"), get("backward", "weight_hh"), H), [
        2,
        4 * H,
        H,
      ]);
      const biases = [
        onnxGates(get("forward", "bias_ih"), get("backward", "bias_ih"), H),
        onnxGates(get("forward", "bias_hh"), get("backward", "bias_hh"), H),
      ];
      const bias = new Float32Array(16 * H);
      for (const direction of [0, 1]) {
        bias.set(
          biases[0]?.subarray(direction * 4 * H, (direction + 1) * 4 * H) as Float32Array,
          direction * 8 * H,
        );
        bias.set(
          biases[1]?.subarray(direction * 4 * H, (direction + 1) * 4 * H) as Float32Array,
          direction * 8 * H + 4 * H,
        );
      }
      const [Y, Yh] = apply(OnnxLstm, [input, W, R, graph.constant(bias, [2, 8 * H]), sequenceLens], {
        hidden: H,
        steps: T,
        batch: B,
      }) as [Tensor, Tensor];
      finals.push(Yh);
      input = reshape(transpose(Y, [0, 2, 1, 3]), [T, B, 2 * H]);
    }
    const result = await evaluate(
      {
        mine: mine.output,
        theirs: transpose(input, [1, 0, 2]),
        mineFinal: concat(
          mine.hidden.map((h) => unsqueeze(h, [0])),
          0,
        ),
        theirFinal: concat(finals, 0),
      },
      {},
    );
    const theirs = numbers(result.theirs);
    expect(maxDifference(numbers(result.mine), theirs)).toBeLessThan(1e-5);
    expect(maxDifference(numbers(result.mineFinal), numbers(result.theirFinal))).toBeLessThan(1e-5);
    // Padded steps are 0 in both.
    expect(theirs.slice((1 * T + 1) * 2 * H, 2 * T * 2 * H).every((v) => v === 0)).toBe(true);
  });
});

describe("padding does not leak", () => {
  it("values at padded steps change neither outputs nor gradients, and get zero gradient", {
    timeout: 30_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        async (lengths, seed) => {
          const [T, D, H] = [4, 2, 2];
          const B = lengths.length;
          const lstm = new BiLstm({ inputSize: D, hiddenSize: H, layers: 2, dtype: "float64" });
          const values = initialize(lstm.parameters, seed);
          const graph = new Graph();
          const x = graph.input("x", "float64", [B, "steps", D]);
          const params = bind(lstm.parameters, (path, parameter) =>
            graph.input(path, "float64", parameter.shape),
          );
          const mask = graph.constant(maskData(lengths, T), [B, T]);
          const { output, hidden } = lstm.forward(params, { x, mask }, { training: false });
          const weights = graph.constant(
            Float64Array.from({ length: B * T * 2 * H }, (_, i) => Math.cos(i)),
            [B, T, 2 * H],
          );
          const loss = reduceSum(
            concat([reshape(mul(output, weights), [-1]), ...hidden.map((h) => reshape(h, [-1]))], 0),
          );
          const leaves = flatten(lstm.parameters).map(
            ([path]) => graph.inputs.find((t) => t.name === path) as Tensor,
          );
          const [dx, ...dw] = grad(loss, [x, ...leaves]) as Tensor[];
          const outputs: Record<string, Tensor> = { output, dx: dx as Tensor };
          dw.forEach((g, i) => {
            outputs[`dw${i}`] = g;
          });
          const feeds = (padding: number): Record<string, TensorValue> => {
            const data = Float64Array.from({ length: B * T * D }, (_, i) => {
              const row = Math.floor(i / (T * D));
              const step = Math.floor(i / D) % T;
              return step < (lengths[row] ?? 0) ? Math.sin(i + seed) : padding;
            });
            const out: Record<string, TensorValue> = { x: { data, dims: [B, T, D] } };
            for (const [path, parameter] of flatten(lstm.parameters))
              out[path] = { data: values.get(path) as Float64Array, dims: parameter.shape };
            return out;
          };
          const a = await evaluate(outputs, feeds(0));
          const b = await evaluate(outputs, feeds(1e3));
          for (const name of Object.keys(outputs)) expect(numbers(b[name])).toEqual(numbers(a[name]));
          const dxs = numbers(a.dx);
          dxs.forEach((value, i) => {
            const row = Math.floor(i / (T * D));
            const step = Math.floor(i / D) % T;
            if (step >= (lengths[row] ?? 0)) expect(value).toBe(0);
          });
          const out = numbers(a.output);
          out.forEach((value, i) => {
            const row = Math.floor(i / (T * 2 * H));
            const step = Math.floor(i / (2 * H)) % T;
            if (step >= (lengths[row] ?? 0)) expect(value).toBe(0);
          });
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe("BiLstm errors", () => {
  it("names the argument", () => {
    expect(() => new BiLstm({ inputSize: 0, hiddenSize: 2 })).toThrow(
      new HeadsError("BiLstm", "options.inputSize", "a positive integer", "0"),
    );
    expect(() => new BiLstm({ inputSize: 2, hiddenSize: 1.5 })).toThrow(
      "BiLstm: options.hiddenSize: expected a positive integer, got 1.5",
    );
    expect(() => new BiLstm({ inputSize: 2, hiddenSize: 2, layers: 0 })).toThrow(
      "BiLstm: options.layers: expected a positive integer, got 0",
    );
    expect(() => new BiLstm({ inputSize: 2, hiddenSize: 2, dropout: 1 })).toThrow(
      "BiLstm: options.dropout: expected a number in [0, 1), got 1",
    );
    expect(() => new BiLstm({ inputSize: 2, hiddenSize: 2, layers: 1024 })).toThrow(
      "BiLstm: options.layers: expected fewer than 1024, got 1024",
    );
    expect(() => new BiLstm({ inputSize: 2, hiddenSize: 2, seed: -1 })).toThrow(
      "BiLstm: options.seed: expected an integer in [0, 2097150], got -1",
    );
    const lstm = new BiLstm({ inputSize: 2, hiddenSize: 2 });
    const graph = new Graph();
    const params = bind(lstm.parameters, (path, p) => graph.input(path, "float32", p.shape));
    const mask = graph.input("mask", "bool", ["batch", "steps"]);
    expect(() =>
      lstm.forward(
        params,
        { x: graph.input("x", "float32", ["batch", "steps", 3]), mask },
        { training: false },
      ),
    ).toThrow("BiLstm.forward: x: expected [batch, steps, 2], got [batch, steps, 3]");
    expect(() =>
      lstm.forward(
        params,
        {
          x: graph.input("x2", "float32", ["batch", "steps", 2]),
          mask: graph.input("m", "float32", ["batch", "steps"]),
        },
        { training: false },
      ),
    ).toThrow("BiLstm.forward: mask: expected a bool [batch, steps] tensor, got float32 of rank 2");
  });
});

describe("BiLstm dropout", () => {
  it("drops between layers in training only, never after the top layer (as torch)", {
    timeout: 30_000,
  }, async () => {
    const run = async (layers: number, training: boolean) => {
      const lstm = new BiLstm({ inputSize: 3, hiddenSize: 4, layers, dropout: 0.5, seed: 9 });
      const values = initialize(lstm.parameters, 1);
      const graph = new Graph();
      const params = bind(lstm.parameters, (path, p) =>
        graph.constant(values.get(path) as Float32Array, p.shape),
      );
      const x = graph.constant(
        Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i)),
        [2, 5, 3],
      );
      const mask = graph.constant(maskData([5, 3], 5), [2, 5]);
      const { output } = lstm.forward(params, { x, mask }, { training });
      return numbers((await evaluate({ output }, {})).output);
    };
    expect(await run(1, true)).toEqual(await run(1, false));
    expect(await run(2, true)).not.toEqual(await run(2, false));
  });

  it("keys the masks by context.key: same key same masks, another key other masks", {
    timeout: 30_000,
  }, async () => {
    const lstm = new BiLstm({ inputSize: 3, hiddenSize: 4, layers: 2, dropout: 0.5, seed: 9 });
    const values = initialize(lstm.parameters, 1);
    const run = async (key: bigint) => {
      const graph = new Graph();
      const params = bind(lstm.parameters, (path, p) =>
        graph.constant(values.get(path) as Float32Array, p.shape),
      );
      const x = graph.constant(
        Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i)),
        [2, 5, 3],
      );
      const mask = graph.constant(maskData([5, 3], 5), [2, 5]);
      const k = graph.input("key", "int64", []);
      const { output } = lstm.forward(params, { x, mask }, { training: true, key: k });
      // Each evaluate runs a new ORT session: an unkeyed stream would restart in each.
      return numbers((await evaluate({ output }, { key: { data: BigInt64Array.of(key), dims: [] } })).output);
    };
    const first = await run(1025n);
    expect(await run(1025n)).toEqual(first);
    expect(await run(2049n)).not.toEqual(first);
  });
});
