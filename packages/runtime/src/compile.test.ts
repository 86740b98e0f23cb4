import { readFileSync } from "node:fs";
import { crossEntropy } from "@xlt/graph";
import { Mlp } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { compile, type LossFunction } from "./compile.js";
import type { OptimizerOptions } from "./optimizers.js";

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

async function train(optimizer: OptimizerOptions) {
  const values = new Map(Object.entries(fixture.init).map(([name, data]) => [name, Float64Array.from(data)]));
  const session = await compile(mlp, loss, {
    inputs: { x: { dtype: "float64", shape: ["batch", 4] }, y: { dtype: "int64", shape: ["batch"] } },
    optimizer,
    groups,
    clipNorm: 0.5,
    values,
  });
  const results = [];
  for (let step = 0; step < 4; step += 1) results.push(await session.trainStep(batch));
  return { session, results };
}

describe("compile: one ONNX graph per training step matches torch", () => {
  const cases: [string, OptimizerOptions][] = [
    ["adamw", { kind: "adamw" }],
    ["adam", { kind: "adam" }],
    ["sgd", { kind: "sgd", momentum: 0.9 }],
  ];
  for (const [name, optimizer] of cases) {
    it(`${name}: losses, gradient norms and final parameters to 1e-9 (MLP, clipping, groups, no decay on biases)`, async () => {
      const reference = fixture.runs[name] as Run;
      const { session, results } = await train(optimizer);
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
