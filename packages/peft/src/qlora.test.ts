import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluate, Graph, toOnnx } from "@xlt/graph";
import { flatten, initialize, Linear } from "@xlt/nn";
import { compile } from "@xlt/runtime";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import { applyLora, loraLayers } from "./lora.js";
import { dequantizeNf4, quantizeNf4 } from "./nf4.js";
import { dequantizeInGraph } from "./nf4-graph.js";
import { Nf4Linear } from "./nf4-linear.js";
import { applyQlora, frozenMemory, nf4Layers } from "./qlora.js";
import { runModel, TinyTagger, TwoLayer, taggerBatch, taggerLoss, valuesWithB } from "./test-utils/models.js";
import { trainableParameters } from "./trainable.js";

const wave = (n: number, scale: number) =>
  Float32Array.from({ length: n }, (_, i) => scale * Math.sin(0.37 * i * i + i));

describe("dequantizeInGraph", () => {
  const cases: [string, number[], boolean][] = [
    ["a 16x64 weight", [16, 64], false],
    ["an odd size with a partial block", [7, 13], false],
    ["double quantisation over two 256-block groups", [300, 64], true],
    ["double quantisation with partial blocks", [5, 99], true],
  ];
  for (const [name, shape, doubleQuant] of cases) {
    it(`${name}: equals the TypeScript dequantisation bit for bit (ORT, no MatMulNBits fusion)`, async () => {
      const size = shape.reduce((p, d) => p * d, 1);
      const q = quantizeNf4(wave(size, 0.3), shape, { doubleQuant });
      const graph = new Graph();
      const anchor = graph.input("x", "float32", ["n"]);
      const { w } = await evaluate(
        { w: dequantizeInGraph(q, anchor) },
        { x: { data: new Float32Array(0), dims: [0] } },
      );
      expect(w?.dims).toEqual(shape);
      expect([...(w?.data ?? [])]).toEqual([...dequantizeNf4(q)]);
    });
  }
});

describe("ORT keeps the 4-bit storage", () => {
  it("its optimised model holds the packed words, not a float32 weight folded at session creation", async () => {
    const directory = await mkdtemp(join(tmpdir(), "xlt-nf4-"));
    try {
      const layer = new Nf4Linear(
        new Linear(256, 256, { bias: false }),
        quantizeNf4(wave(256 * 256, 0.1), [256, 256]),
      );
      const graph = new Graph();
      const x = graph.input("x", "float32", [2, 256]);
      const model = toOnnx({ y: layer.forward({}, x) });
      const file = join(directory, "optimised.onnx");
      const session = await ort.InferenceSession.create(model.bytes, {
        graphOptimizationLevel: "all",
        optimizedModelFilePath: file,
      });
      await session.release();
      // A folded float32 weight alone would be 262,144 bytes; the packed codes are 32,768.
      const size = (await stat(file)).size;
      expect(size).toBeGreaterThan(32_768);
      expect(size).toBeLessThan(100_000);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("Nf4Linear", () => {
  it("forward equals x·dequantise(W)ᵀ + b (float32)", async () => {
    const base = new Linear(64, 5);
    const q = quantizeNf4(wave(5 * 64, 0.1), [5, 64]);
    const layer = new Nf4Linear(base, q);
    const values = initialize(layer.parameters, 2);
    const x = wave(3 * 64, 1);
    const { output } = await runModel(
      { parameters: layer.parameters, forward: (p, t) => layer.forward(p, t) },
      values,
      { name: "x", dtype: "float32", value: { data: x, dims: [3, 64] } },
    );
    const w = dequantizeNf4(q);
    const b = values.get("bias") as Float32Array;
    let worst = 0;
    for (let n = 0; n < 3; n += 1)
      for (let o = 0; o < 5; o += 1) {
        let y = b[o] as number;
        for (let i = 0; i < 64; i += 1) y += (x[n * 64 + i] as number) * (w[o * 64 + i] as number);
        worst = Math.max(worst, Math.abs(y - (output.data[n * 5 + o] as number)));
      }
    expect(worst).toBeLessThan(2e-6);
  });

  it("rejects a weight of the wrong shape", () => {
    expect(() => new Nf4Linear(new Linear(4, 3), quantizeNf4(wave(12, 1), [4, 3]))).toThrowError(
      "Nf4Linear: weight.shape: expected [3, 4] (torch's [out, in]), got [4, 3]",
    );
  });
});

describe("applyQlora", () => {
  const classes = 3;
  const tagger = new TinyTagger(13, 64, classes, "float32");

  it("quantises every Linear but modules_to_save, wraps the targets in LoRA, drops quantised values", () => {
    const values = initialize(tagger.parameters, 4);
    const { model, values: rest } = applyQlora(tagger, values, {
      targetModules: ["query", "value"],
      r: 4,
      alpha: 8,
      modulesToSave: ["classifier"],
      doubleQuant: true,
    });
    expect(nf4Layers(model)).toHaveLength(4);
    expect(loraLayers(model).map(([path, layer]) => [path, layer.base instanceof Nf4Linear])).toEqual([
      ["attention.query", true],
      ["attention.value", true],
    ]);
    expect(rest.has("attention.query.weight")).toBe(false);
    expect(rest.has("classifier.weight")).toBe(true);
    const paths = flatten(model.parameters).map(([path]) => path);
    expect(paths).not.toContain("attention.key.weight");
    const report = trainableParameters(model);
    expect(report.quantized).toBe(4 * 64 * 64);
    expect(report.trainable).toBe(2 * (64 * 4 + 4 * 64) + 64 * classes + classes);
    // Memory of the frozen weights against fp32: 4 attention weights in NF4, embeddings/norms/biases in fp32.
    const memory = frozenMemory(model);
    const nf4 = 4 * (64 * 64 * 0.5 + 64 + 4 + 4);
    const floats = 4 * (13 * 64 + 64 + 64 + 4 * 64);
    expect(memory.bytes).toBe(nf4 + floats);
    expect(memory.float32Bytes).toBe(4 * 4 * 64 * 64 + floats);
  });

  it("trains with compile: only LoRA moves, frozen values unchanged bit for bit, the loss falls", async () => {
    const values = initialize(tagger.parameters, 5);
    const { model, values: rest } = applyQlora(tagger, values, {
      targetModules: ["query", "value"],
      r: 4,
      alpha: 8,
    });
    const initial = valuesWithB(model.parameters, 6);
    for (const [path, data] of rest) initial.set(path, data);
    const session = await compile(model, taggerLoss(model, classes), {
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        labels: { dtype: "int64", shape: ["batch", "steps"] },
      },
      optimizer: { kind: "adamw" },
      groups: [{ name: "lora", match: /lora_/, lr: 0.02 }],
      values: initial,
    });
    const batch = taggerBatch(2, 5, 13, classes);
    const losses: number[] = [];
    for (let step = 0; step < 8; step += 1) losses.push((await session.trainStep(batch)).loss);
    expect(losses.at(-1)).toBeLessThan(losses[0] as number);
    for (const [path, parameter] of flatten(model.parameters)) {
      const before = initial.get(path) as Float32Array;
      const after = session.parameters.get(path) as Float32Array;
      if (parameter.trainable) expect([...after]).not.toEqual([...before]);
      else expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    }
    await session.release();
  });

  for (const dtype of ["float32", "float64"] as const)
    it(`${dtype}: LoRA gradients over an NF4 base match the same LoRA over the dequantised weights`, async () => {
      const model = new TwoLayer([64, 8, 2], dtype);
      const values = initialize(model.parameters, 7);
      const q = applyQlora(model, values, {
        targetModules: ["first"],
        quantizeModules: ["first"],
        r: 2,
        alpha: 2,
      });
      const qValues = valuesWithB(q.model.parameters, 8);
      for (const [path, data] of q.values) qValues.set(path, data);
      // The float reference: first.weight replaced by the dequantised NF4 weight (back in [in, out]).
      const layer = nf4Layers(q.model)[0] as Nf4Linear;
      const w = dequantizeNf4(layer.weight);
      const dense = dtype === "float32" ? new Float32Array(64 * 8) : new Float64Array(64 * 8);
      for (let o = 0; o < 8; o += 1)
        for (let i = 0; i < 64; i += 1) dense[i * 8 + o] = w[o * 64 + i] as number;
      const floatModel = applyLora(model, { targetModules: ["first"], r: 2, alpha: 2 });
      const fValues = new Map(qValues);
      fValues.set("first.weight", dense);
      const data = dtype === "float32" ? wave(2 * 64, 1) : Float64Array.from(wave(2 * 64, 1));
      const input = { name: "x", dtype, value: { data, dims: [2, 64] } };
      const wrt = ["first.lora_A", "first.lora_B"];
      const a = await runModel(q.model, qValues, input, wrt);
      const b = await runModel(floatModel, fValues, input, wrt);
      let worst = 0;
      for (const path of wrt) {
        const ga = a.grads.get(path)?.data ?? [];
        const gb = b.grads.get(path)?.data ?? [];
        for (let i = 0; i < ga.length; i += 1)
          worst = Math.max(worst, Math.abs(Number(ga[i]) - Number(gb[i])));
      }
      expect(worst).toBeLessThan(dtype === "float32" ? 1e-5 : 1e-12);
    });

  it("errors: a missing weight value, no Linear to quantise", () => {
    expect(() => applyQlora(tagger, new Map(), { targetModules: ["query"] })).toThrowError(
      new PeftError("applyQlora", "values.attention.query.weight", `${64 * 64} values`, "nothing"),
    );
    expect(() =>
      applyQlora(tagger, initialize(tagger.parameters, 0), {
        targetModules: ["query"],
        quantizeModules: ["nothing"],
      }),
    ).toThrowError(
      'applyQlora: quantizeModules: expected a pattern matching at least one Linear, got ["nothing"]',
    );
  });
});
