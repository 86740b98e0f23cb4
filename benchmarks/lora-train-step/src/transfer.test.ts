import { crossEntropy, type Tensor } from "@xlt/graph";
import { flatten } from "@xlt/nn";
import { compile, stateSlots } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { type Method, prepareMethod } from "./methods.js";
import { recordTransfers, totals, transferKind } from "./transfer.js";

const shape = {
  vocab: 40,
  hidden: 8,
  layers: 2,
  heads: 2,
  ffn: 16,
  positions: 8,
  tags: 3,
  dropout: 0.1,
};
const [rows, steps] = [2, 5];
const batch = {
  ids: {
    data: BigInt64Array.from({ length: rows * steps }, (_, i) => BigInt((i * 7) % 40)),
    dims: [rows, steps],
  },
  mask: {
    data: Uint8Array.from({ length: rows * steps }, (_, i) => (i % steps < 4 ? 1 : 0)),
    dims: [rows, steps],
  },
  labels: {
    data: BigInt64Array.from({ length: rows * steps }, (_, i) => (i % steps < 4 ? BigInt(i % 3) : -100n)),
    dims: [rows, steps],
  },
};

/** One recorded training step of `method` on the tiny encoder, with its trainable paths. */
async function oneStep(method: Method) {
  const { model, values } = prepareMethod(method, shape);
  const session = await compile(
    model,
    (params, { ids, mask, labels }, context) => {
      const { logits } = model.forward(params, { ids, mask }, context);
      return { loss: crossEntropy(logits as Tensor, labels, -100) };
    },
    {
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        mask: { dtype: "bool", shape: ["batch", "steps"] },
        labels: { dtype: "int64", shape: ["batch", "steps"] },
      },
      optimizer: { kind: "adamw" },
      groups: [{ name: "all", match: /./, lr: 1e-3, weightDecay: 0.01 }],
      clipNorm: 1,
      threads: 1,
      values,
    },
  );
  const trainable = flatten(model.parameters).filter(([, parameter]) => parameter.trainable);
  const paths = new Set(trainable.map(([path]) => path));
  const { transfers } = await recordTransfers(new Set(Object.keys(batch)), paths, () =>
    session.trainStep(batch),
  );
  // After recording, run is restored: this step is not recorded.
  await session.trainStep(batch);
  await session.release();
  const size = trainable.reduce((sum, [, p]) => sum + p.shape.reduce((a, d) => a * d, 1), 0);
  return { transfers, size };
}

describe("transferKind", () => {
  const inputs = new Set(["ids", "labels"]);
  const trainable = new Set(["head.classifier.weight", "encoder.layers.layer0.attention.query.lora_A"]);
  it("names batch inputs, parameters, optimizer state and scalars as @xlt/runtime's graph does", () => {
    expect(transferKind("ids", inputs, trainable)).toBe("batch");
    expect(transferKind("head.classifier.weight", inputs, trainable)).toBe("parameters");
    expect(transferKind("next:head.classifier.weight", inputs, trainable)).toBe("parameters");
    expect(transferKind("m:encoder.layers.layer0.attention.query.lora_A", inputs, trainable)).toBe(
      "optimizer state",
    );
    expect(transferKind("next:v:head.classifier.weight", inputs, trainable)).toBe("optimizer state");
    for (const name of ["step", "lr:all", "wd:all", "dropout_key", "loss", "grad_norm"])
      expect([name, transferKind(name, inputs, trainable)]).toEqual([name, "scalars"]);
  });
});

describe("recordTransfers", () => {
  it("counts what one fused training step passes: the batch, parameters and AdamW moments in and out, scalars", async () => {
    const slots = stateSlots({ kind: "adamw" }).length;
    for (const method of ["lora-qv", "full"] as const) {
      const { transfers, size } = await oneStep(method);
      expect(transfers).toHaveLength(1);
      const step = transfers[0];
      if (!step) throw new Error("no recorded step");
      // float32 parameters and state; ids and labels int64, mask bool.
      expect(step.in).toEqual({
        batch: rows * steps * (8 + 1 + 8),
        parameters: 4 * size,
        "optimizer state": 4 * slots * size,
        // step, lr:all and wd:all (float64) and the dropout key (int64)
        scalars: 4 * 8,
      });
      expect(step.out).toEqual({
        batch: 0,
        parameters: 4 * size,
        "optimizer state": 4 * slots * size,
        // loss (float32) and gradient norm (float64)
        scalars: 4 + 8,
      });
      expect(totals(step).in).toBe(rows * steps * 17 + 12 * size + 32);
    }
  });

  it("records only the calls inside its body and returns the body's result", async () => {
    // oneStep trains a second step after recording: still one recorded call.
    expect((await oneStep("bitfit")).transfers).toHaveLength(1);
    expect(await recordTransfers(new Set(), new Set(), async () => 7)).toEqual({ result: 7, transfers: [] });
  });
});
