import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { crossEntropy } from "@xlt/graph";
import { Mlp } from "@xlt/nn";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "./compile.js";
import { Trainer } from "./trainer.js";

// The worker runs compiled JavaScript (dist/step-worker.js): build it first if needed.
const root = fileURLToPath(new URL("..", import.meta.url));
beforeAll(() => {
  if (!existsSync(`${root}dist/step-worker.js`))
    spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
});

const model = new Mlp([3, 6, 2], { activation: "tanh" });
const loss = (
  params: Parameters<typeof model.forward>[0],
  inputs: { x: Parameters<typeof model.forward>[1]; y: Parameters<typeof model.forward>[1] },
) => ({
  loss: crossEntropy(model.forward(params, inputs.x, { training: true }), inputs.y),
});
const options = {
  inputs: {
    x: { dtype: "float32" as const, shape: ["batch", 3] },
    y: { dtype: "int64" as const, shape: ["batch"] },
  },
  optimizer: { kind: "adamw" as const },
  groups: [{ name: "all", match: /./, lr: 0.1, weightDecay: 0.01 }],
  clipNorm: 1,
  seed: 5,
};
const batch = {
  x: { data: Float32Array.of(1, 0, -1, 0.5, 2, 0, -1, -1, 1), dims: [3, 3] },
  y: { data: BigInt64Array.of(0n, 1n, 1n), dims: [3] },
};

describe("WorkerSession", () => {
  it("trains in a worker thread with the same numbers as in process, accumulation included", async () => {
    const { compileInWorker } = await import(`${root}dist/index.js`);
    const inProcess = await compile(model, loss, options);
    const worker = await compileInWorker(model, loss, options);
    for (let step = 0; step < 4; step += 1) {
      const micro = step % 2 === 0 ? batch : [batch, batch];
      const a = await inProcess.trainStep(micro, 0.5);
      const b = await worker.trainStep(micro, 0.5);
      expect(b).toEqual(a);
    }
    expect(worker.step).toBe(4);
    const snapshot = await worker.snapshot();
    for (const [name, data] of inProcess.snapshot().tensors) expect(snapshot.tensors.get(name)).toEqual(data);
    expect((await worker.evalStep(batch)).loss).toEqual((await inProcess.evalStep(batch)).loss);
    const saved = inProcess.snapshot();
    await worker.restore(saved.tensors, 9, saved.shapes);
    expect(worker.step).toBe(9);
    const wrong = new Map(saved.shapes);
    wrong.set("layer0.weight", [1, ...(saved.shapes.get("layer0.weight") ?? [])]);
    await expect(worker.restore(saved.tensors, 0, wrong)).rejects.toThrow(
      /^restore: layer0\.weight: expected shape \[\d+, \d+\], got \[1, \d+, \d+\]$/,
    );
    expect(worker.step).toBe(9);
    await expect(worker.trainStep({})).rejects.toThrow(
      "trainStep: batch.x: expected a float32 tensor, got nothing",
    );
    await expect(worker.restore(new Map(), 0)).rejects.toThrow(
      "restore: layer0.weight: expected a saved tensor, got nothing",
    );
    await worker.release();
    await inProcess.release();
  });

  it("the Trainer drives a worker session like an in-process one", async () => {
    const { compileInWorker } = await import(`${root}dist/index.js`);
    const results = [];
    for (const session of [
      await compile(model, loss, options),
      await compileInWorker(model, loss, options),
    ]) {
      const result = await new Trainer({
        session,
        epochs: 2,
        batches: () => [batch, batch],
        evaluate: async (s) => Number((await s.evalStep(batch)).loss?.data[0] ?? 0),
      }).run();
      results.push({ result, tensors: (await session.snapshot()).tensors });
      await session.release();
    }
    expect(results[1]?.result).toEqual(results[0]?.result);
    expect(results[1]?.tensors).toEqual(results[0]?.tensors);
  });
});
