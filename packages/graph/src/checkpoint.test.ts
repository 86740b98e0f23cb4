import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { onnx } from "onnx-proto";
import type * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import { checkpoint } from "./checkpoint.js";
import { dropout, layerNorm } from "./composites.js";
import { add, exp, mul, randomUniformLike, tanh } from "./elementwise.js";
import { createSession, evaluate, fromOrtTensor, type TensorValue, toOrtTensor } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { gather } from "./indexing.js";
import { toOnnx } from "./onnx.js";
import { scan } from "./scan.js";
import { matmul, reduceSum } from "./structural.js";
import { checkGrads, randomInput, rng, values } from "./test-utils/check-grads.js";

/** One residual block: x + tanh(LN(x)·W1)·W2, with keyed dropout when a key is given. */
function block(x: Tensor, w1: Tensor, w2: Tensor, key?: Tensor): Tensor {
  const h = tanh(matmul(layerNorm(x, null, null, 1e-5), w1)); // shape: [batch, hidden]
  const d = key ? dropout(h, 0.25, 7, true, key) : h;
  return add(x, matmul(d, w2));
}

interface Stack {
  readonly graph: Graph;
  readonly loss: Tensor;
  readonly wrt: Tensor[];
}

/** A stack of `depth` blocks with a sum-of-squares loss, optionally checkpointing each block. */
function stack(
  depth: number,
  width: number,
  checkpointed: boolean,
  dtype: "float32" | "float64",
  keyed: boolean,
): Stack {
  const graph = new Graph();
  const x = graph.input("x", dtype, ["batch", width]);
  const key = keyed ? graph.input("key", "int64", []) : undefined;
  const weights: Tensor[] = [];
  let h = x;
  for (let layer = 0; layer < depth; layer += 1) {
    const w1 = graph.input(`w${layer}a`, dtype, [width, width]);
    const w2 = graph.input(`w${layer}b`, dtype, [width, width]);
    weights.push(w1, w2);
    h = checkpointed
      ? checkpoint(([input]) => block(input as Tensor, w1, w2, key), [h])
      : block(h, w1, w2, key);
  }
  const loss = reduceSum(mul(h, h));
  return { graph, loss, wrt: [x, ...weights] };
}

function feedsFor(depth: number, width: number, batch: number, seed: number, dtype: "float32" | "float64") {
  const random = rng(seed);
  const make = (shape: number[], scale: number): TensorValue => {
    const data = Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => (random() * 2 - 1) * scale);
    return { data: dtype === "float64" ? Float64Array.from(data) : Float32Array.from(data), dims: shape };
  };
  const feeds: Record<string, TensorValue> = {
    x: make([batch, width], 1),
    key: { data: BigInt64Array.of(3n), dims: [] },
  };
  for (let layer = 0; layer < depth; layer += 1) {
    feeds[`w${layer}a`] = make([width, width], 0.5);
    feeds[`w${layer}b`] = make([width, width], 0.5);
  }
  return feeds;
}

async function gradients(
  depth: number,
  width: number,
  checkpointed: boolean,
  keyed: boolean,
  feeds: Record<string, TensorValue>,
) {
  const { loss, wrt } = stack(depth, width, checkpointed, "float64", keyed);
  const grads = grad(loss, wrt);
  const outputs: Record<string, Tensor> = { loss };
  for (const [index, g] of grads.entries()) outputs[`g${index}`] = g;
  return evaluate(outputs, feeds);
}

function maxDifference(a: Record<string, TensorValue>, b: Record<string, TensorValue>): number {
  let worst = 0;
  for (const name of Object.keys(a)) {
    const left = values(a[name]);
    const right = values(b[name]);
    expect(right).toHaveLength(left.length);
    for (const [index, value] of left.entries())
      worst = Math.max(worst, Math.abs(value - (right[index] as number)));
  }
  return worst;
}

const opCounts = (model: onnx.IModelProto): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const node of model.graph?.node ?? [])
    counts.set(node.opType ?? "", (counts.get(node.opType ?? "") ?? 0) + 1);
  return counts;
};

describe("checkpoint", () => {
  it("gives the same loss and gradients as the plain graph (random depths, widths, keyed dropout)", async () => {
    const cases = fc.tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 3 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 1_000_000 }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([depth, width, batch, keyed, seed]) => {
        const feeds = feedsFor(depth, width, batch, seed, "float64");
        const plain = await gradients(depth, width, false, keyed, feeds);
        const remat = await gradients(depth, width, true, keyed, feeds);
        expect(maxDifference(plain, remat)).toBeLessThan(1e-12);
      }),
      { numRuns: 12 },
    );
  });

  it("gradients match central differences (inputs, closure weights, two outputs)", async () => {
    const error = await checkGrads(
      (x, w, b) => {
        const [u, v] = checkpoint(
          ([input, bias]) => {
            const h = tanh(add(matmul(input as Tensor, w), bias as Tensor)); // shape: [3, 4]
            return [mul(h, h), exp(mul(h, 0.5))];
          },
          [x, b],
        );
        return add(u as Tensor, v as Tensor);
      },
      [randomInput([3, 4], rng(1)), randomInput([4, 4], rng(2), -1, 1), randomInput([4], rng(3))],
      11,
      3,
    );
    expect(error).toBeLessThan(1e-7);
  });

  it("an integer input is gated too and the closure weights get their gradient (embedding lookup)", async () => {
    const run = async (checkpointed: boolean) => {
      const graph = new Graph();
      const ids = graph.input("ids", "int64", [4]);
      const table = graph.input("table", "float64", [5, 3]);
      const lookup = ([i]: readonly Tensor[]) => tanh(gather(table, i as Tensor));
      const e = checkpointed ? checkpoint(lookup, [ids]) : lookup([ids]);
      const loss = reduceSum(mul(e, e));
      const [dTable] = grad(loss, [table]);
      return evaluate(
        { loss, dTable: dTable as Tensor },
        {
          ids: { data: BigInt64Array.of(0n, 2n, 2n, 4n), dims: [4] },
          table: { data: Float64Array.from({ length: 15 }, (_, k) => Math.sin(k)), dims: [5, 3] },
        },
      );
    };
    const plain = await run(false);
    const remat = await run(true);
    expect(values(remat.dTable)).toEqual(values(plain.dTable));
    expect(values(plain.dTable).some((g) => g !== 0)).toBe(true);
  });

  it("an infinite upstream gradient gives no NaN: the gate passes values through exactly", async () => {
    const run = async (checkpointed: boolean) => {
      const graph = new Graph();
      const x = graph.input("x", "float64", [3]);
      const f = ([input]: readonly Tensor[]) => mul(input as Tensor, 3);
      const y = checkpointed ? checkpoint(f, [x]) : f([x]);
      const loss = reduceSum(exp(y)); // exp(3·300) overflows: dy = Inf in the first element
      const [dx] = grad(loss, [x]);
      return evaluate({ dx: dx as Tensor }, { x: { data: Float64Array.of(300, 0.5, -1), dims: [3] } });
    };
    const plain = values((await run(false)).dx);
    const remat = values((await run(true)).dx);
    expect(plain[0]).toBe(Number.POSITIVE_INFINITY);
    expect(remat).toEqual(plain);
    expect(remat[1]).toBeCloseTo(3 * Math.exp(1.5), 12);
  });

  it("the model ORT optimises (level all) still holds the recomputation", async () => {
    const depth = 3;
    const dir = mkdtempSync(join(tmpdir(), "xlt-checkpoint-"));
    try {
      const optimised = async (checkpointed: boolean) => {
        const { loss, wrt } = stack(depth, 8, checkpointed, "float32", false);
        const grads = grad(loss, wrt);
        const outputs: Record<string, Tensor> = { loss };
        for (const [index, g] of grads.entries()) outputs[`g${index}`] = g;
        const path = join(dir, `${checkpointed ? "remat" : "plain"}.onnx`);
        const session = await createSession(toOnnx(outputs), {
          graphOptimizationLevel: "all",
          optimizedModelFilePath: path,
          logSeverityLevel: 3,
        });
        const result = await session.run(
          Object.fromEntries(
            Object.entries(feedsFor(depth, 8, 2, 5, "float32"))
              .filter(([name]) => name !== "key")
              .map(([name, value]) => [name, toOrtTensor("float32", value)]),
          ),
        );
        await session.release();
        return {
          counts: opCounts(onnx.ModelProto.decode(readFileSync(path))),
          loss: values(fromOrtTensor(result.loss as ort.Tensor))[0],
        };
      };
      const plain = await optimised(false);
      const remat = await optimised(true);
      expect(plain.counts.get("Tanh")).toBe(depth);
      expect(remat.counts.get("Tanh")).toBe(2 * depth);
      expect(remat.counts.get("IsNaN")).toBe(depth);
      expect(remat.loss).toBe(plain.loss);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects no inputs, no outputs, unrelated graphs, ORT's stateful noise and loops capturing fn's values", () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", [2, 3]);
    const other = new Graph().input("y", "float32", [2, 3]);
    expect(() => checkpoint(([a]) => a as Tensor, [])).toThrow(
      "checkpoint: inputs: expected at least one tensor, got none",
    );
    expect(() => checkpoint(() => [], [x])).toThrow(
      "checkpoint: fn: expected at least one output tensor, got none",
    );
    expect(() => checkpoint(([a]) => a as Tensor, [x, other])).toThrow(
      "checkpoint: inputs: expected tensors of one graph (or its enclosing graphs), got tensors of unrelated graphs",
    );
    expect(() => checkpoint(([a]) => randomUniformLike(a as Tensor, 1), [x])).toThrow(
      "checkpoint: fn: expected a deterministic function (keyed noise such as hashUniformLike), got randomUniformLike, which would draw a different value when recomputed",
    );
    expect(() =>
      checkpoint(
        ([a]) => {
          const w = tanh(a as Tensor); // computed inside fn, then captured by the loop body
          return scan(
            ([h], [step]) => ({ carry: [add(mul(h as Tensor, reduceSum(w)), step as Tensor)], ys: [] }),
            [a as Tensor],
            [a as Tensor],
          ).carry[0] as Tensor;
        },
        [x],
      ),
    ).toThrow(
      "checkpoint: fn: expected loops (Scan) whose bodies capture only tensors from outside fn, got a Scan capturing a tensor that fn computes",
    );
  });
});
