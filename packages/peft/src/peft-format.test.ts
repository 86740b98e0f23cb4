import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromFloats, readSafetensors, writeSafetensors } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import { applyLora, loraLayers } from "./lora.js";
import {
  loadPeftAdapter,
  peftConfigJson,
  readPeftConfig,
  readPeftWeights,
  savePeftAdapter,
  toPeftAdapter,
} from "./peft-format.js";
import { runModel, TinyTagger, valuesWithB } from "./test-utils/models.js";

const fixture = (name: string) => new URL(`../fixtures/peft/${name}`, import.meta.url);
const json = async (name: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(fixture(name), "utf8"));

/** xlt paths of the test tagger → the module names of one BERT layer (fixtures/peft/README.md). */
const BERT: Readonly<Record<string, string>> = {
  embed: "bert.embeddings.word_embeddings",
  attention: "bert.encoder.layer.0.attention",
  "attention.query": "bert.encoder.layer.0.attention.self.query",
  "attention.key": "bert.encoder.layer.0.attention.self.key",
  "attention.value": "bert.encoder.layer.0.attention.self.value",
  "attention.output": "bert.encoder.layer.0.attention.output.dense",
  norm: "bert.encoder.layer.0.attention.output.LayerNorm",
  classifier: "classifier",
};
const naming = { moduleName: (path: string) => BERT[path] ?? path };
const base = new TinyTagger(11, 8, 3);
const ids = {
  name: "ids",
  dtype: "int64" as const,
  value: { data: BigInt64Array.from([1, 4, 7, 2, 0, 8], BigInt), dims: [2, 3] },
};

describe("PEFT adapter files: structure as PEFT writes them (fixtures/peft)", () => {
  it("token classification: adapter_config.json field for field, tensor names and torch shapes", async () => {
    const config = {
      targetModules: ["query", "value"],
      r: 2,
      alpha: 4,
      dropout: 0.1,
      modulesToSave: ["classifier"],
    };
    const model = applyLora(base, config, naming);
    const files = toPeftAdapter(model, valuesWithB(model.parameters, 1), config, {
      ...naming,
      baseModelNameOrPath: "bert-base-multilingual-cased",
      taskType: "TOKEN_CLS",
    });
    expect(JSON.parse(files.config)).toEqual(await json("token-cls/adapter_config.json"));
    const read = readSafetensors(files.weights);
    expect(Object.fromEntries([...read.tensors].map(([key, t]) => [key, t.shape]))).toEqual(
      await json("token-cls/tensors.json"),
    );
    expect(read.metadata).toEqual({ format: "pt" });
    expect([...read.tensors.values()].every((t) => t.dtype === "F64")).toBe(true);
  });

  it("lora_only + rsLoRA + rank/alpha patterns + a regex target: read from a newer PEFT's config", async () => {
    const text = await readFile(fixture("lora-only-rslora/adapter_config.json"), "utf8");
    const read = readPeftConfig(text);
    expect(read).toEqual({
      config: {
        targetModules: ".*\\.self\\.(query|key|value)",
        r: 4,
        alpha: 8,
        dropout: 0,
        bias: "lora_only",
        useRslora: true,
        init: "gaussian",
        rankPattern: { key: 2 },
        alphaPattern: { value: 6 },
      },
      baseModelNameOrPath: null,
      taskType: null,
    });
    const model = applyLora(base, read.config, naming);
    expect(loraLayers(model).map(([path, layer]) => [path, layer.rank, layer.scaling])).toEqual([
      ["attention.query", 4, 8 / 2],
      ["attention.key", 2, 8 / Math.sqrt(2)],
      ["attention.value", 4, 6 / 2],
    ]);
    const files = toPeftAdapter(model, valuesWithB(model.parameters, 2), read.config, naming);
    const tensors = readSafetensors(files.weights).tensors;
    expect(Object.fromEntries([...tensors].map(([key, t]) => [key, t.shape]))).toEqual(
      await json("lora-only-rslora/tensors.json"),
    );
    // The config written back carries the same LoRA settings.
    const written = JSON.parse(files.config);
    for (const key of [
      "r",
      "lora_alpha",
      "bias",
      "use_rslora",
      "rank_pattern",
      "alpha_pattern",
      "init_lora_weights",
      "target_modules",
    ])
      expect([key, written[key]]).toEqual([key, JSON.parse(text)[key]]);
  });

  it("layouts: lora_A.weight is Aᵀ [r, in], lora_B.weight is Bᵀ [out, r], a saved Linear's weight is [out, in]", () => {
    const config = { targetModules: ["query"], r: 2, modulesToSave: ["classifier"] };
    const model = applyLora(base, config);
    const values = valuesWithB(model.parameters, 3);
    const tensors = readSafetensors(toPeftAdapter(model, values, config).weights).tensors;
    const a = values.get("attention.query.lora_A") as Float64Array; // [8, 2]
    const b = values.get("attention.query.lora_B") as Float64Array; // [2, 8]
    const w = values.get("classifier.weight") as Float64Array; // [8, 3]
    expect(tensors.get("base_model.model.attention.query.lora_A.weight")?.data[1 * 8 + 5]).toBe(a[5 * 2 + 1]);
    expect(tensors.get("base_model.model.attention.query.lora_B.weight")?.data[6 * 2 + 1]).toBe(b[1 * 8 + 6]);
    expect(tensors.get("base_model.model.classifier.weight")?.data[2 * 8 + 7]).toBe(w[7 * 3 + 2]);
  });
});

describe("PEFT round trip within xlt", () => {
  it("save → load gives the same values and identical outputs", async () => {
    const directory = await mkdtemp(join(tmpdir(), "xlt-peft-"));
    try {
      const config = {
        targetModules: ["query", "value"],
        r: 2,
        alpha: 4,
        bias: "all" as const,
        modulesToSave: ["classifier"],
      };
      const model = applyLora(base, config, naming);
      const values = valuesWithB(model.parameters, 4);
      await savePeftAdapter(directory, model, values, config, { ...naming, taskType: "TOKEN_CLS" });
      // As PEFT writes it for TOKEN_CLS: "score" added to modules_to_save, a name this model lacks.
      const configPath = join(directory, "adapter_config.json");
      const written = JSON.parse(await readFile(configPath, "utf8"));
      await writeFile(configPath, JSON.stringify({ ...written, modules_to_save: ["classifier", "score"] }));
      const loaded = await loadPeftAdapter(directory, base, naming);
      expect(loaded.taskType).toBe("TOKEN_CLS");
      expect(loaded.config.modulesToSave).toEqual(["classifier"]);
      // Adapter values over the base model's values.
      const merged = new Map(values);
      for (const [path, data] of loaded.values) {
        expect([path, [...data]]).toEqual([path, [...(values.get(path) as Float64Array)]]);
        merged.set(path, data);
      }
      expect(loaded.values.size).toBe(4 + 6 + 1);
      const before = await runModel(model, values, ids);
      const after = await runModel(loaded.model, merged, ids);
      expect([...after.output.data]).toEqual([...before.output.data]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("PEFT adapters saved in half precision", () => {
  it("BF16 and F16 tensors are read into the model's dtype (transposed as usual)", () => {
    const config = { targetModules: ["query"], r: 2 };
    const model = applyLora(base, config);
    const a = Array.from({ length: 16 }, (_, i) => (i - 8) / 16); // exact in both half formats
    const weights = writeSafetensors(
      new Map([
        ["base_model.model.attention.query.lora_A.weight", fromFloats(a, "BF16", [2, 8])],
        ["base_model.model.attention.query.lora_B.weight", fromFloats(a, "F16", [8, 2])],
      ]),
    );
    const values = readPeftWeights(model, config, weights);
    const loraA = values.get("attention.query.lora_A");
    expect(loraA).toBeInstanceOf(Float64Array);
    // xlt A [8, 2] is the transpose of lora_A.weight [2, 8].
    expect(loraA?.[5 * 2 + 1]).toBe(a[1 * 8 + 5]);
    expect(values.get("attention.query.lora_B")?.[1 * 8 + 6]).toBe(a[6 * 2 + 1]);
  });
});

describe("PEFT format errors", () => {
  const config = { targetModules: ["query"], r: 2 };
  const model = applyLora(base, config);
  const values = valuesWithB(model.parameters, 5);

  it("config: not LORA, DoRA, layers_to_transform, bad fields, bad JSON; fan_in_fan_out accepted", () => {
    const good = peftConfigJson(config);
    const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
    expect(() => readPeftConfig(bad({ peft_type: "IA3" }))).toThrowError(
      new PeftError("readPeftConfig", "adapter_config.json: peft_type", '"LORA"', '"IA3"'),
    );
    expect(() => readPeftConfig(bad({ use_dora: true }))).toThrowError(
      "readPeftConfig: adapter_config.json: use_dora: expected false (not supported by @xlt/peft), got true",
    );
    // GPT-2 adapters carry fan_in_fan_out: true; their LoRA tensors have the usual shapes.
    expect(readPeftConfig(bad({ fan_in_fan_out: true })).config.targetModules).toEqual(["query"]);
    expect(() => readPeftConfig(bad({ layers_to_transform: [0] }))).toThrowError(
      "readPeftConfig: adapter_config.json: layers_to_transform: expected null (not supported by @xlt/peft), got [0]",
    );
    expect(() => readPeftConfig(bad({ target_modules: 3 }))).toThrowError(
      "readPeftConfig: adapter_config.json: target_modules: expected a string or a list of strings, got 3",
    );
    expect(() => readPeftConfig(bad({ r: "8" }))).toThrowError(
      'readPeftConfig: adapter_config.json: r: expected a number, got "8"',
    );
    expect(() => readPeftConfig(bad({ bias: "some" }))).toThrowError(
      'readPeftConfig: adapter_config.json: bias: expected "none", "all" or "lora_only", got "some"',
    );
    expect(() => readPeftConfig(bad({ r: 0 }))).toThrowError(
      "readPeftConfig: r: expected a positive integer, got 0",
    );
    expect(() => readPeftConfig("{")).toThrowError(
      'readPeftConfig: adapter_config.json: expected JSON, got "{"',
    );
    expect(() => readPeftConfig("[1]")).toThrowError(
      "readPeftConfig: adapter_config.json: expected a JSON object, got [1]",
    );
  });

  it("weights: unknown keys, wrong shapes, missing tensors, missing values", () => {
    const other = applyLora(base, { targetModules: ["key"], r: 2 });
    const weights = toPeftAdapter(model, values, config).weights;
    expect(() => readPeftWeights(other, { targetModules: ["key"], r: 2 }, weights)).toThrowError(
      "readPeftWeights: adapter_model.safetensors: base_model.model.attention.query.lora_A.weight: expected a tensor of the LoRA model, got an unknown key",
    );
    const wider = applyLora(base, { targetModules: ["query"], r: 3 });
    expect(() => readPeftWeights(wider, { targetModules: ["query"], r: 3 }, weights)).toThrowError(
      "readPeftWeights: adapter_model.safetensors: base_model.model.attention.query.lora_A.weight: expected shape [3, 8], got [2, 8]",
    );
    const both = applyLora(base, { targetModules: ["query", "key"], r: 2 });
    expect(() => readPeftWeights(both, { targetModules: ["query", "key"], r: 2 }, weights)).toThrowError(
      "readPeftWeights: adapter_model.safetensors: base_model.model.attention.key.lora_A.weight: expected a tensor, got nothing",
    );
    const partial = new Map(values);
    partial.delete("attention.query.lora_B");
    expect(() => toPeftAdapter(model, partial, config)).toThrowError(
      "toPeftAdapter: values.attention.query.lora_B: expected 16 values, got nothing",
    );
  });
});
