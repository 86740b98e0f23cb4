import { readFileSync } from "node:fs";
import { crossEntropy, type Tensor } from "@xlt/graph";
import { Linear, Mlp, type Parameter } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { compile } from "./compile.js";
import type { OptimizerOptions } from "./optimizers.js";
import { linearWarmupDecay, type Schedule } from "./schedules.js";
import type { LossFunction } from "./train-graph.js";

interface Run {
  losses: number[];
  grad_norms: number[];
  final: Record<string, number[]>;
}
const fixture: { x: number[]; y: number[]; init: Record<string, number[]>; runs: Record<string, Run> } =
  JSON.parse(readFileSync(new URL("../fixtures/optimizers.json", import.meta.url), "utf8"));

const mlp = new Mlp([4, 8, 3], { activation: "relu", dtype: "float64" });
const loss: LossFunction<"x" | "y"> = (params, inputs, context) => {
  const logits = mlp.forward(params, inputs.x, context);
  return { loss: crossEntropy(logits, inputs.y, -100), outputs: { logits } };
};
const batch = {
  x: { data: Float64Array.from(fixture.x), dims: [5, 4] },
  y: { data: BigInt64Array.from(fixture.y, (v) => BigInt(v)), dims: [5] },
};
const groups = [
  { name: "hidden", match: /^layer0\.weight$/, lr: 0.01, weightDecay: 0.1 },
  { name: "hiddenBias", match: /^layer0\.bias$/, lr: 0.01 },
  { name: "top", match: /^layer1\./, lr: 0.02, weightDecay: 0.1 },
];

async function train(optimizer: OptimizerOptions, schedule: Schedule = () => 1) {
  const values = new Map(Object.entries(fixture.init).map(([name, data]) => [name, Float64Array.from(data)]));
  const session = await compile(mlp, loss, {
    inputs: { x: { dtype: "float64", shape: ["batch", 4] }, y: { dtype: "int64", shape: ["batch"] } },
    optimizer,
    groups,
    clipNorm: 0.5,
    values,
  });
  const results = [];
  for (let step = 0; step < 4; step += 1)
    results.push(await session.trainStep(batch, schedule(session.step)));
  return { session, results };
}

describe("compile: one ONNX graph per training step matches torch", () => {
  // The *_warmup_decay runs: torch's LambdaLR with xlt's linearWarmupDecay(2, 6) (multipliers 0,
  // 0.5, 1, 0.75), so AdamW's decoupled weight decay must use the scheduled learning rate too.
  const cases: [string, OptimizerOptions, Schedule?][] = [
    ["adamw", { kind: "adamw" }],
    ["adam", { kind: "adam" }],
    ["sgd", { kind: "sgd", momentum: 0.9 }],
    ["adamw_warmup_decay", { kind: "adamw" }, linearWarmupDecay(2, 6)],
    ["sgd_warmup_decay", { kind: "sgd", momentum: 0.9 }, linearWarmupDecay(2, 6)],
  ];
  for (const [name, optimizer, schedule] of cases) {
    it(`${name}: losses, gradient norms and final parameters to 1e-9 (MLP, clipping, groups, no decay on biases)`, async () => {
      const reference = fixture.runs[name] as Run;
      const { session, results } = await train(optimizer, schedule);
      for (const [step, result] of results.entries()) {
        expect(Math.abs(result.loss - (reference.losses[step] ?? 0))).toBeLessThan(1e-9);
        expect(Math.abs(result.gradNorm - (reference.grad_norms[step] ?? 0))).toBeLessThan(1e-9);
      }
      let worst = 0;
      for (const [path, expected] of Object.entries(reference.final)) {
        const actual = session.parameters.get(path) ?? new Float64Array();
        expected.forEach((value, index) => {
          worst = Math.max(worst, Math.abs(value - (actual[index] ?? Number.NaN)));
        });
      }
      expect(worst).toBeLessThan(1e-9);
      expect(session.step).toBe(4);
      const evaluation = await session.evalStep(batch);
      expect(evaluation.logits?.dims).toEqual([5, 3]);
      await session.release();
    });
  }

  it("gradient accumulation over two micro-batches equals one step on their union", async () => {
    const half = (rows: number[]) => ({
      x: {
        data: Float64Array.from(rows.flatMap((r) => fixture.x.slice(r * 4, r * 4 + 4))),
        dims: [rows.length, 4],
      },
      y: { data: BigInt64Array.from(rows, (r) => BigInt(fixture.y[r] ?? 0)), dims: [rows.length] },
    });
    // Rows 0, 1, 3 and 4 carry labels (2 is ignored): two halves with two labelled rows each.
    const union = half([0, 1, 3, 4]);
    const values = () =>
      new Map(Object.entries(fixture.init).map(([name, data]) => [name, Float64Array.from(data)]));
    const options = {
      inputs: {
        x: { dtype: "float64" as const, shape: ["batch", 4] },
        y: { dtype: "int64" as const, shape: ["batch"] },
      },
      optimizer: { kind: "adamw" as const },
      groups,
      clipNorm: 0.5,
    };
    const whole = await compile(mlp, loss, { ...options, values: values() });
    const split = await compile(mlp, loss, { ...options, values: values() });
    for (let step = 0; step < 3; step += 1) {
      const a = await whole.trainStep(union);
      const b = await split.trainStep([half([0, 1]), half([3, 4])]);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-12);
      expect(Math.abs(a.gradNorm - b.gradNorm)).toBeLessThan(1e-12);
    }
    for (const [path, data] of whole.parameters) {
      const other = split.parameters.get(path) ?? new Float64Array();
      for (const [index, value] of data.entries()) {
        expect(Math.abs(value - (other[index] ?? Number.NaN))).toBeLessThan(1e-12);
      }
    }
    expect(split.step).toBe(3);
    await expect(split.trainStep([])).rejects.toThrow(
      "trainStep: batch: expected at least one micro-batch, got none",
    );
    await whole.release();
    await split.release();
  });

  it("frozen parameters stay inside the session as initializers and never change", async () => {
    const layer = new Linear(2, 2);
    const frozen = {
      weight: (layer.parameters.weight as Parameter).with({ trainable: false }),
      bias: layer.parameters.bias as Parameter,
    };
    const model = { parameters: frozen, forward: layer.forward.bind(layer) };
    const session = await compile(
      model,
      (params, inputs: { x: Tensor; y: Tensor }) => ({
        loss: crossEntropy(model.forward(params, inputs.x), inputs.y),
      }),
      {
        inputs: { x: { dtype: "float32", shape: ["batch", 2] }, y: { dtype: "int64", shape: ["batch"] } },
        optimizer: { kind: "adamw" },
        groups: [{ name: "all", match: /./, lr: 0.1 }],
      },
    );
    const weight = Float32Array.from(session.parameters.get("weight") ?? []);
    const bias = Float32Array.from(session.parameters.get("bias") ?? []);
    const step = {
      x: { data: Float32Array.of(1, 2), dims: [1, 2] },
      y: { data: BigInt64Array.of(1n), dims: [1] },
    };
    await session.trainStep(step);
    expect(session.parameters.get("weight")).toEqual(weight);
    expect(session.parameters.get("bias")).not.toEqual(bias);
    expect([...session.state.keys()]).toEqual(["m:bias", "v:bias"]);
    await session.release();
  });

  it("rejects a parameter left out of every group, and bad options", async () => {
    const options = {
      inputs: {
        x: { dtype: "float64" as const, shape: ["batch", 4] },
        y: { dtype: "int64" as const, shape: ["batch"] },
      },
      optimizer: { kind: "adamw" as const },
    };
    await expect(
      compile(mlp, loss, { ...options, groups: [{ name: "w", match: /weight/, lr: 1 }] }),
    ).rejects.toThrow(
      "assignGroups: layer0.bias: expected a trainable parameter in exactly one group, got no group",
    );
    await expect(
      compile(mlp, loss, { ...options, groups: [{ name: "all", match: /./, lr: 1 }], clipNorm: 0 }),
    ).rejects.toThrow("compile: clipNorm: expected a number > 0, got 0");
    await expect(
      compile(mlp, loss, {
        ...options,
        groups: [{ name: "all", match: /./, lr: 1 }],
        optimizer: { kind: "adam", beta1: 1 },
      }),
    ).rejects.toThrow("compile: optimizer.beta1: expected a number in [0, 1), got 1");
  });
});
