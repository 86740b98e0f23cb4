import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crossEntropy } from "@xlt/graph";
import { Linear, Parameter, writeSafetensors } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { loadCheckpoint, parseTrainerState } from "./checkpoint.js";
import { compile } from "./compile.js";
import { RuntimeError } from "./errors.js";
import type { OptimizerOptions } from "./optimizers.js";

describe("RuntimeError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new RuntimeError("compile", "clipNorm", "a number > 0", "0");
    expect(error.message).toBe("compile: clipNorm: expected a number > 0, got 0");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("RuntimeError");
  });

  it("compile, restore and loadCheckpoint messages", async () => {
    const model = new Linear(2, 2);
    const loss = (
      params: Parameters<typeof model.forward>[0],
      inputs: { x: Parameters<typeof model.forward>[1]; y: Parameters<typeof model.forward>[1] },
    ) => ({
      loss: crossEntropy(model.forward(params, inputs.x), inputs.y),
    });
    const base = {
      inputs: {
        x: { dtype: "float32" as const, shape: ["batch", 2] },
        y: { dtype: "int64" as const, shape: ["batch"] },
      },
      optimizer: { kind: "adamw" } as OptimizerOptions,
      groups: [{ name: "all", match: /./, lr: 0.1 }],
    };
    const clash = { ...base, inputs: { ...base.inputs, weight: { dtype: "float32" as const, shape: [1] } } };
    await expect(compile(model, loss, clash)).rejects.toThrow(
      "compile: inputs.weight: expected a name that is not a parameter path, got weight",
    );
    await expect(
      compile(model, loss, { ...base, values: new Map([["weight", new Float32Array(3)]]) }),
    ).rejects.toThrow("compile: values.weight: expected 4 values, got 3");
    const unknown = JSON.parse('{"kind":"lion"}');
    await expect(compile(model, loss, { ...base, optimizer: unknown })).rejects.toThrow(
      'compile: optimizer.kind: expected "sgd", "adam" or "adamw", got {"kind":"lion"}',
    );
    await expect(compile(model, loss, { ...base, optimizer: { kind: "adam", epsilon: 0 } })).rejects.toThrow(
      "compile: optimizer.epsilon: expected a number > 0, got 0",
    );
    await expect(
      compile(model, loss, { ...base, optimizer: { kind: "sgd", momentum: -0.5 } }),
    ).rejects.toThrow("compile: optimizer.momentum: expected a number in [0, 1), got -0.5");
    const frozen = {
      parameters: Object.fromEntries(
        Object.entries(model.parameters).map(([name, parameter]) => [
          name,
          parameter instanceof Parameter ? parameter.with({ trainable: false }) : parameter,
        ]),
      ),
    };
    await expect(compile(frozen, loss, base)).rejects.toThrow(
      "compile: model.parameters: expected at least one trainable parameter, got 2 parameters, all frozen",
    );
    await expect(compile({ parameters: {} }, loss, base)).rejects.toThrow(
      "compile: model.parameters: expected at least one trainable parameter, got no parameters",
    );
    const session = await compile(model, loss, base);
    const { tensors } = session.snapshot();
    expect(() => session.restore(tensors, -1)).toThrow(
      "restore: step: expected a non-negative integer, got -1",
    );
    const short = new Map(tensors);
    short.set("weight", new Float32Array(1));
    expect(() => session.restore(short, 0)).toThrow(
      "restore: weight: expected 4 Float32Array values, got 1 Float32Array",
    );
    const extra = new Map(tensors);
    extra.set("head.weight", new Float32Array(3));
    expect(() => session.restore(extra, 0)).toThrow(
      "restore: head.weight: expected a parameter or optimizer state of this model, got a tensor of 3 values the model lacks",
    );
    const { shapes } = session.snapshot();
    expect(shapes.get("weight")).toEqual([2, 2]);
    const transposed = new Map(shapes);
    transposed.set("weight", [4, 1]);
    expect(() => session.restore(tensors, 0, transposed)).toThrow(
      "restore: weight: expected shape [2, 2], got [4, 1]",
    );
    const missing = new Map(shapes);
    missing.delete("bias");
    expect(() => session.restore(tensors, 0, missing)).toThrow(
      "restore: bias: expected shape [2], got no shape",
    );
    session.restore(tensors, 3, shapes);
    expect(session.step).toBe(3);
    await session.release();
  });

  it("loadCheckpoint refuses bad pointers and non-float tensors", () => {
    const directory = mkdtempSync(join(tmpdir(), "xlt-errors-"));
    try {
      writeFileSync(join(directory, "latest.json"), JSON.stringify({ name: "../escape" }));
      expect(() => loadCheckpoint(directory)).toThrow(
        'loadCheckpoint: latest.json: expected a checkpoint name, got "../escape"',
      );
      writeFileSync(join(directory, "latest.json"), JSON.stringify({ name: "step-1" }));
      rmSync(join(directory, "step-1"), { recursive: true, force: true });
      const bytes = writeSafetensors(
        new Map([["ids", { dtype: "I64" as const, shape: [1], data: BigInt64Array.of(1n) }]]),
      );
      const target = join(directory, "step-1");
      mkdirSync(target);
      writeFileSync(join(target, "model.safetensors"), bytes);
      writeFileSync(join(target, "trainer.json"), "{}");
      expect(() => loadCheckpoint(directory)).toThrow(
        "loadCheckpoint: ids: expected an F32 or F64 tensor, got I64",
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("loadCheckpoint checks every field of trainer.json", () => {
    const good = {
      epoch: 1,
      batchInEpoch: 0,
      step: 4,
      epochRandomState: 123,
      bestMetric: 0.5,
      bestStep: 4,
      sinceBest: 0,
    };
    const file = "step-1/trainer.json";
    expect(parseTrainerState(JSON.stringify(good), file)).toEqual(good);
    const stopped = { ...good, stopped: true, stopReason: "patience" };
    expect(parseTrainerState(JSON.stringify(stopped), file)).toEqual(stopped);
    const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
    expect(() => parseTrainerState("{oops", file)).toThrow(
      'loadCheckpoint: step-1/trainer.json: expected JSON, got "{oops"',
    );
    expect(() => parseTrainerState("[1]", file)).toThrow(
      "loadCheckpoint: step-1/trainer.json: expected a JSON object, got [1]",
    );
    expect(() => parseTrainerState(bad({ extra: 1 }), file)).toThrow(
      "loadCheckpoint: step-1/trainer.json: extra: expected no such field, got 1",
    );
    for (const key of ["epoch", "batchInEpoch", "step", "sinceBest"]) {
      expect(() => parseTrainerState(bad({ [key]: -1 }), file)).toThrow(
        `loadCheckpoint: step-1/trainer.json: ${key}: expected a non-negative integer, got -1`,
      );
    }
    expect(() => parseTrainerState(bad({ step: "4" }), file)).toThrow(
      'loadCheckpoint: step-1/trainer.json: step: expected a non-negative integer, got "4"',
    );
    const { epoch: _, ...noEpoch } = good;
    expect(() => parseTrainerState(JSON.stringify(noEpoch), file)).toThrow(
      "loadCheckpoint: step-1/trainer.json: epoch: expected a non-negative integer, got undefined",
    );
    expect(() => parseTrainerState(bad({ epochRandomState: 2 ** 32 }), file)).toThrow(
      "loadCheckpoint: step-1/trainer.json: epochRandomState: expected an unsigned 32-bit integer, got 4294967296",
    );
    expect(() => parseTrainerState(bad({ bestMetric: "0.5" }), file)).toThrow(
      'loadCheckpoint: step-1/trainer.json: bestMetric: expected a finite number or null, got "0.5"',
    );
    expect(() => parseTrainerState(bad({ bestStep: 1.5 }), file)).toThrow(
      "loadCheckpoint: step-1/trainer.json: bestStep: expected a non-negative integer or null, got 1.5",
    );
    expect(() => parseTrainerState(bad({ stopped: false }), file)).toThrow(
      "loadCheckpoint: step-1/trainer.json: stopped: expected true or absent, got false",
    );
    expect(() => parseTrainerState(bad({ stopReason: 3 }), file)).toThrow(
      "loadCheckpoint: step-1/trainer.json: stopReason: expected a string or absent, got 3",
    );

    const directory = mkdtempSync(join(tmpdir(), "xlt-errors-"));
    try {
      const target = join(directory, "step-1");
      mkdirSync(target);
      writeFileSync(join(directory, "latest.json"), JSON.stringify({ name: "step-1" }));
      writeFileSync(join(target, "model.safetensors"), writeSafetensors(new Map()));
      writeFileSync(join(target, "trainer.json"), bad({ step: null }));
      expect(() => loadCheckpoint(directory)).toThrow(
        "loadCheckpoint: step-1/trainer.json: step: expected a non-negative integer, got null",
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
