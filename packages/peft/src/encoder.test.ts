import { crossEntropy, reshape, type Tensor } from "@xlt/graph";
import {
  BERT,
  type EncoderModelConfig,
  flatten,
  HfEncoderModel,
  initialize,
  readSafetensors,
  type TensorTree,
} from "@xlt/nn";
import { compile } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { applyBottleneckAdapters, BottleneckAdapter } from "./adapters.js";
import { applyLora, loraLayers } from "./lora.js";
import { mergeLora } from "./merge.js";
import { namedModules } from "./modules.js";
import { moduleNamingFrom, readPeftWeights, toPeftAdapter } from "./peft-format.js";
import { applyQlora, nf4Layers } from "./qlora.js";
import { applyBitFit } from "./selective.js";
import { trainableParameters } from "./trainable.js";

// A two-layer BERT token classifier from @xlt/nn (the transformer issue's encoder), float64, no dropout.
const config: EncoderModelConfig = {
  family: "bert",
  head: "token-classification",
  vocabSize: 30,
  hidden: 8,
  layers: 2,
  heads: 2,
  intermediate: 16,
  maxPositions: 16,
  typeVocabSize: 2,
  labels: 3,
  hiddenDropout: 0,
  attentionDropout: 0,
};
const base = new HfEncoderModel(config, ["O", "B-X", "I-X"], { dtype: "float64" });
const naming = moduleNamingFrom(BERT.mapping(base));

const loss =
  (model: HfEncoderModel) =>
  (
    params: TensorTree,
    inputs: Readonly<Record<"ids" | "labels", Tensor>>,
    context: { training: boolean },
  ) => {
    const logits = model.forward(params, { ids: inputs.ids }, context).logits as Tensor;
    return {
      loss: crossEntropy(reshape(logits, [-1, 3]), reshape(inputs.labels, [-1]), -100),
      outputs: { logits },
    };
  };
const batch = {
  ids: { data: BigInt64Array.from([2, 7, 9, 4, 11, 3], BigInt), dims: [2, 3] },
  labels: { data: BigInt64Array.from([0, 1, 2, 0, -100, 1], BigInt), dims: [2, 3] },
};
const inputs = {
  ids: { dtype: "int64" as const, shape: ["batch", "steps"] },
  labels: { dtype: "int64" as const, shape: ["batch", "steps"] },
};

async function train(model: HfEncoderModel, values: Map<string, Float32Array | Float64Array>, steps = 2) {
  const session = await compile(model, loss(model), {
    inputs,
    optimizer: { kind: "adamw" },
    groups: [{ name: "all", match: /./, lr: 0.01 }],
    values,
  });
  for (let step = 0; step < steps; step += 1) await session.trainStep(batch);
  const moved = flatten(model.parameters)
    .filter(([path]) => [...(session.parameters.get(path) ?? [])].some((v, i) => v !== values.get(path)?.[i]))
    .map(([path]) => path);
  const evaluation = await session.evalStep(batch);
  const parameters = new Map(session.parameters);
  await session.release();
  return { moved, parameters, logits: evaluation.logits?.data ?? new Float64Array() };
}

describe("@xlt/peft on @xlt/nn's BERT encoder", () => {
  it("LoRA on query/value with Hugging Face module names: wraps 4 layers, trains only them, PEFT keys", async () => {
    const peftConfig = { targetModules: ["query", "value"], r: 2, alpha: 4, modulesToSave: ["classifier"] };
    const model = applyLora(base, peftConfig, naming);
    expect(loraLayers(model).map(([path]) => naming.moduleName?.(path))).toEqual([
      "bert.encoder.layer.0.attention.self.query",
      "bert.encoder.layer.0.attention.self.value",
      "bert.encoder.layer.1.attention.self.query",
      "bert.encoder.layer.1.attention.self.value",
    ]);
    const values = initialize(model.parameters, 3);
    const { moved, parameters } = await train(model, values);
    const trainable = flatten(model.parameters)
      .filter(([, p]) => p.trainable)
      .map(([path]) => path);
    expect(trainable).toContain("head.classifier.weight");
    expect(moved.sort()).toEqual(trainable.sort());
    const files = toPeftAdapter(model, parameters, peftConfig, { ...naming, taskType: "TOKEN_CLS" });
    const keys = [...readSafetensors(files.weights).tensors.keys()];
    expect(keys).toEqual([
      "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
      "base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight",
      "base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight",
      "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight",
      "base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight",
      "base_model.model.bert.encoder.layer.1.attention.self.query.lora_B.weight",
      "base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight",
      "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight",
      "base_model.model.classifier.bias",
      "base_model.model.classifier.weight",
    ]);
    const back = readPeftWeights(model, peftConfig, files.weights, naming);
    for (const [path, data] of back)
      expect([path, [...data]]).toEqual([path, [...(parameters.get(path) ?? [])]]);
    // Merged into the encoder, the logits stay the same.
    const merged = mergeLora(model, parameters);
    const a = await train(model, parameters, 0);
    const b = await train(merged.model, merged.values, 0);
    expect(a.logits.length).toBe(2 * 3 * 3);
    expect(
      Math.max(...[...a.logits].map((v, i) => Math.abs(Number(v) - Number(b.logits[i] ?? 0)))),
    ).toBeLessThan(1e-12);
  });

  it("QLoRA and BitFit train on the encoder too", async () => {
    const values = initialize(base.parameters, 4);
    const q = applyQlora(
      base,
      values,
      { targetModules: ["query", "value"], r: 2, modulesToSave: ["classifier"] },
      naming,
    );
    expect(nf4Layers(q.model)).toHaveLength(2 * 6); // query, key, value, output, intermediate, output per layer
    const qValues = initialize(q.model.parameters, 5);
    for (const [path, data] of q.values) qValues.set(path, data);
    const qRun = await train(q.model, qValues);
    expect(qRun.moved.sort()).toEqual(
      flatten(q.model.parameters)
        .filter(([, p]) => p.trainable)
        .map(([path]) => path)
        .sort(),
    );
    const bitfit = applyBitFit(base, { modules: ["query", "value"] });
    const report = trainableParameters(bitfit);
    expect(report.trainable).toBe(2 * 2 * 8);
    expect((await train(bitfit, values)).moved.sort()).toEqual(
      flatten(bitfit.parameters)
        .filter(([, p]) => p.trainable)
        .map(([path]) => path)
        .sort(),
    );
  });

  it("Houlsby adapters after both sublayer projections, with the layer norms training", async () => {
    const model = applyBottleneckAdapters(base, {
      targetModules: ["output"],
      reductionFactor: 2,
      trainModules: ["attentionNorm", "outputNorm"],
      modulesToSave: ["classifier"],
    });
    const sites = namedModules(model)
      .filter(([, m]) => m instanceof BottleneckAdapter)
      .map(([path]) => naming.moduleName?.(path));
    expect(sites).toEqual([
      "bert.encoder.layer.0.attention.output.dense",
      "bert.encoder.layer.0.output.dense",
      "bert.encoder.layer.1.attention.output.dense",
      "bert.encoder.layer.1.output.dense",
    ]);
    const run = await train(model, initialize(model.parameters, 6));
    expect(run.moved.sort()).toEqual(
      flatten(model.parameters)
        .filter(([, p]) => p.trainable)
        .map(([path]) => path)
        .sort(),
    );
  });
});
