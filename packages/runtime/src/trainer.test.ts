import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { crossEntropy } from "@xlt/graph";
import { Linear } from "@xlt/nn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointName, loadCheckpoint } from "./checkpoint.js";
import { compile } from "./compile.js";
import { Trainer } from "./trainer.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "xlt-trainer-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function linearSession() {
  const model = new Linear(2, 2);
  return compile(model, (params, { x, y }) => ({ loss: crossEntropy(model.forward(params, x), y) }), {
    inputs: { x: { dtype: "float32", shape: ["batch", 2] }, y: { dtype: "int64", shape: ["batch"] } },
    optimizer: { kind: "sgd", momentum: 0.5 },
    groups: [{ name: "all", match: /./, lr: 0.5 }],
  });
}

const batch = {
  x: { data: Float32Array.of(1, 0, 0, 1, 2, 0, 0, 2), dims: [4, 2] },
  y: { data: BigInt64Array.of(0n, 1n, 0n, 1n), dims: [4] },
};

describe("Trainer", () => {
  it("trains, logs every step and evaluation, keeps the best checkpoint and stops early", async () => {
    const session = await linearSession();
    const directory = join(scratch, "early");
    const logFile = join(scratch, "early.jsonl");
    const metrics = [0.5, 0.4, 0.45, 0.46, 0.47, 0.1];
    const options = {
      epochs: 6,
      batches: () => [batch, batch],
      evaluate: async (_session: unknown, epoch: number) => metrics[epoch] ?? 0,
      patience: 2,
      checkpointDir: directory,
      logFile,
    };
    const trainer = new Trainer({ session, ...options });
    const result = await trainer.run();
    // Patience 2: epochs 2 (0.45) and 3 (0.46) do not improve on 0.4, so the run stops after epoch 3.
    expect(result).toEqual({
      epochs: 4,
      steps: 8,
      bestMetric: 0.4,
      bestStep: 4,
      stoppedEarly: true,
      stopReason: "no improvement in 2 evaluations (patience 2)",
      resumedFrom: null,
    });
    const lines = readFileSync(logFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.filter((line) => line.type === "step")).toHaveLength(8);
    expect(lines.filter((line) => line.type === "eval").map((line) => line.metric)).toEqual(
      metrics.slice(0, 4),
    );
    expect(lines.filter((line) => line.type === "stop")).toHaveLength(1);
    const losses = lines.filter((line) => line.type === "step").map((line) => line.loss);
    expect(losses.at(-1)).toBeLessThan(losses[0]);
    expect(checkpointName(directory, "best.json")).toBe("step-00000004");
    expect(loadCheckpoint(directory)?.trainer).toMatchObject({ step: 8, epoch: 4, stopped: true });
    expect(loadCheckpoint(directory, "best.json")?.tensors.get("weight")?.length).toBe(4);
    await session.release();

    // Running again in the same directory trains nothing: the saved run had stopped.
    const again = await linearSession();
    const rerun = await new Trainer({ session: again, ...options }).run();
    expect(rerun).toEqual({ ...result, resumedFrom: 8 });
    expect(again.step).toBe(8);
    const linesAfter = readFileSync(logFile, "utf8").trim().split("\n");
    expect(linesAfter.filter((line) => JSON.parse(line).type === "step")).toHaveLength(8);
    expect(loadCheckpoint(directory)?.trainer.step).toBe(8);
    await again.release();
  });

  it("progress: a terminal gets one line rewritten in place, a log stream full lines (one per epoch end here)", async () => {
    const written = async (isTTY: boolean) => {
      const chunks: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, done) {
          chunks.push(String(chunk));
          done();
        },
      });
      const progress = Object.assign(stream, { isTTY });
      const session = await linearSession();
      await new Trainer({ session, epochs: 2, batches: () => [batch, batch, batch], progress }).run();
      await session.release();
      return chunks;
    };
    const terminal = await written(true);
    expect(terminal).toHaveLength(7);
    expect(terminal.slice(0, 6).every((chunk) => chunk.startsWith("\repoch "))).toBe(true);
    expect(terminal[5]).toMatch(/^\repoch 2\/2 batch 3\/3 loss \d+\.\d{4} [\d.]+ steps\/s ETA /);
    expect(terminal[6]).toBe("\n");
    // The steps of this tiny run take far less than 10 s, so only each epoch's last batch is written.
    const log = await written(false);
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/^epoch 1\/2 batch 3\/3 loss \d+\.\d{4} [\d.]+ steps\/s ETA [^\r]*\n$/);
    expect(log[1]).toMatch(/^epoch 2\/2 batch 3\/3 /);
  });

  it("patience 0 stops at the first evaluation without improvement", async () => {
    const session = await linearSession();
    const metrics = [0.5, 0.4, 0.45, 0.1];
    const result = await new Trainer({
      session,
      epochs: 4,
      batches: () => [batch],
      evaluate: async (_session, epoch) => metrics[epoch] ?? 0,
      patience: 0,
    }).run();
    expect(result).toMatchObject({ epochs: 3, steps: 3, bestMetric: 0.4, stoppedEarly: true });
    await session.release();
  });

  it("two runs with one seed give bit-identical losses", async () => {
    const losses: number[][] = [];
    for (const run of ["a", "b"]) {
      const session = await linearSession();
      const logFile = join(scratch, `seeded-${run}.jsonl`);
      await new Trainer({
        session,
        epochs: 2,
        seed: 7,
        batches: (_epoch, random) =>
          random.shuffle([
            batch,
            { ...batch, x: { data: Float32Array.of(0, 1, 1, 0, 0, 2, 2, 0), dims: [4, 2] } },
          ]),
        logFile,
      }).run();
      losses.push(
        readFileSync(logFile, "utf8")
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line).loss),
      );
      await session.release();
    }
    expect(losses[0]).toHaveLength(4);
    expect(losses[1]).toEqual(losses[0]);
  });

  it("validates its options", async () => {
    const session = await linearSession();
    const base = { session, batches: () => [batch] };
    expect(() => new Trainer({ ...base, epochs: 0 })).toThrow(
      "Trainer: epochs: expected a positive integer, got 0",
    );
    expect(() => new Trainer({ ...base, epochs: 1, patience: -1 })).toThrow(
      "Trainer: patience: expected a non-negative integer, got -1",
    );
    expect(() => new Trainer({ ...base, epochs: 1, checkpointEvery: 0 })).toThrow(
      "Trainer: checkpointEvery: expected a positive integer, got 0",
    );
    expect(() => new Trainer({ ...base, epochs: 1, patience: 1 })).toThrow(
      "Trainer: evaluate: expected an evaluation callback when patience or mode is set, got none",
    );
    await expect(session.trainStep({})).rejects.toThrow(
      "trainStep: batch.x: expected a float32 tensor, got nothing",
    );
    await expect(session.trainStep({ ...batch, z: batch.y })).rejects.toThrow(
      "trainStep: batch.z: expected one of the declared inputs (x, y), got an undeclared input",
    );
    await expect(session.evalStep({ ...batch, x: { ...batch.x, dims: [8] } })).rejects.toThrow(
      "evalStep: batch.x.dims: expected rank 2 ([batch, 2]), got [8]",
    );
    await expect(
      session.trainStep({ ...batch, x: { data: Float32Array.of(1, 0, 0, 1, 2, 0, 0, 2), dims: [2, 4] } }),
    ).rejects.toThrow("trainStep: batch.x.dims[1]: expected 2 ([batch, 2]), got 4");
    await expect(session.trainStep([batch, { ...batch, y: { ...batch.y, dims: [4, 1] } }])).rejects.toThrow(
      "trainStep: batch.y.dims: expected rank 1 ([batch]), got [4, 1]",
    );
    expect(session.step).toBe(0);
    await expect(session.trainStep(batch, -1)).rejects.toThrow(
      "trainStep: lrScale: expected a finite number >= 0, got -1",
    );
    expect(() => session.restore(new Map(), 0)).toThrow(
      "restore: weight: expected a saved tensor, got nothing",
    );
    await session.release();
  });
});

describe("resume after a kill", () => {
  const child = join(root, "src/test-utils/resume-child.mjs");
  beforeAll(() => {
    if (!existsSync(join(root, "dist/index.js")))
      spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  });

  const run = (name: string, env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [child, join(scratch, name), join(scratch, `${name}.jsonl`), join(scratch, `${name}.json`)],
      {
        env: { ...process.env, ...env },
        encoding: "utf8",
      },
    );

  it("a run SIGKILLed mid-epoch and resumed ends with the same parameters as an uninterrupted one", () => {
    const whole = run("whole");
    expect(whole.status).toBe(0);
    const killed = run("killed", { KILL_AT: "7" });
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(join(scratch, "killed.json"))).toBe(false);
    const resumed = run("killed");
    expect(resumed.status).toBe(0);
    const a = JSON.parse(readFileSync(join(scratch, "whole.json"), "utf8"));
    const b = JSON.parse(readFileSync(join(scratch, "killed.json"), "utf8"));
    expect(b.result.resumedFrom).toBe(7);
    expect(b.result.steps).toBe(a.result.steps);
    expect(b.parameters).toEqual(a.parameters);
    const log = readFileSync(join(scratch, "killed.jsonl"), "utf8");
    expect(log).toContain('"type":"resume","step":7,"epoch":1,"batch":2');
  });
});
