import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { crossEntropy, evaluate, Graph, grad, type Tensor, type TensorValue } from "@xlt/graph";
import { afterAll, describe, expect, it } from "vitest";
import { BERT, HfEncoderModel } from "./bert.js";
import { HfCheckpointError, type HfModel } from "./hf-checkpoint.js";
import { bind, initialize } from "./parameters.js";
import { fromPretrained, savePretrained } from "./pretrained.js";
import { readSafetensors } from "./safetensors.js";

const directories: string[] = [];
async function directory(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "xlt-encoder-"));
  directories.push(path);
  return path;
}
afterAll(async () => {
  for (const path of directories) await rm(path, { recursive: true, force: true });
});

const CONFIG = {
  model_type: "bert",
  architectures: ["BertForTokenClassification"],
  vocab_size: 13,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 12,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  id2label: { 0: "O", 1: "B-LOC", 2: "I-LOC" },
  tokenizer_class: "BertTokenizer",
};

const batch: Record<string, TensorValue> = {
  ids: { data: BigInt64Array.of(2n, 5n, 7n, 9n, 3n, 2n, 6n, 3n, 0n, 0n), dims: [2, 5] },
  mask: { data: BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n), dims: [2, 5] },
  labels: { data: BigInt64Array.of(-100n, 1n, 2n, 0n, -100n, -100n, 1n, -100n, -100n, -100n), dims: [2, 5] },
};

/** The training graph of `model`: loss, logits and every parameter's gradient, parameters as inputs. */
function trainingGraph(model: HfEncoderModel) {
  const graph = new Graph();
  const leaves = new Map<string, Tensor>();
  const params = bind(model.parameters, (path, parameter) => {
    const tensor = graph.input(path, parameter.dtype, parameter.shape);
    leaves.set(path, tensor);
    return tensor;
  });
  const ids = graph.input("ids", "int64", ["batch", "steps"]);
  const mask = graph.input("mask", "int64", ["batch", "steps"]);
  const labels = graph.input("labels", "int64", ["batch", "steps"]);
  const key = graph.input("key", "int64", []);
  const trained = model.forward(params, { ids, mask }, { training: true, key }).logits as Tensor;
  const loss = crossEntropy(trained, labels);
  const logits = model.forward(params, { ids, mask }, { training: false }).logits as Tensor;
  const paths = [...leaves.keys()];
  const grads = grad(
    loss,
    paths.map((path) => leaves.get(path) as Tensor),
  );
  return {
    outputs: {
      loss,
      logits,
      ...Object.fromEntries(paths.map((path, index) => [`grad:${path}`, grads[index] as Tensor])),
    },
    paths,
    shapes: new Map(paths.map((path) => [path, (leaves.get(path) as Tensor).shape as number[]])),
  };
}

/** The model as an encoder (`fromPretrained` without an architecture gives the base type). */
function encoder(model: HfModel): HfEncoderModel {
  if (!(model instanceof HfEncoderModel)) throw new Error("expected an encoder model");
  return model;
}

async function run(
  model: HfEncoderModel,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
  step: number,
) {
  const { outputs, shapes } = trainingGraph(model);
  const feeds: Record<string, TensorValue> = {
    ...batch,
    key: { data: BigInt64Array.of(BigInt(step)), dims: [] },
  };
  for (const [path, data] of values) feeds[path] = { data, dims: shapes.get(path) ?? [] };
  return evaluate(outputs, feeds);
}

describe("a checkpoint written by xlt in the Hugging Face layout", () => {
  it("loads, trains a few steps, saves and reloads with identical outputs", async () => {
    const first = await directory();
    const model = BERT.fromConfig(CONFIG);
    await savePretrained(first, {
      architecture: BERT,
      model,
      values: initialize(model.parameters, 7),
      config: CONFIG,
    });
    const loaded = await fromPretrained(first);
    expect(loaded.architecture).toBe(BERT);
    expect(loaded.config).toEqual({ ...CONFIG, ...BERT.toConfig(model) });
    expect(loaded.config.tokenizer_class).toBe("BertTokenizer");
    const values = new Map(loaded.values);
    const losses: number[] = [];
    for (let step = 1; step <= 4; step += 1) {
      const result = await run(encoder(loaded.model), values, step);
      losses.push(Number(result.loss?.data[0]));
      for (const [path, value] of values) {
        const g = result[`grad:${path}`]?.data as Float32Array;
        values.set(
          path,
          Float32Array.from(value, (v, index) => v - 0.5 * (g[index] as number)),
        );
      }
    }
    expect(losses[3]).toBeLessThan(losses[0] as number);
    const second = await directory();
    await savePretrained(second, { ...loaded, values });
    const reloaded = await fromPretrained(second);
    for (const [path, value] of values) expect(reloaded.values.get(path), path).toEqual(value);
    const before = await run(encoder(loaded.model), values, 9);
    const after = await run(encoder(reloaded.model), reloaded.values, 9);
    expect(after.logits?.data).toEqual(before.logits?.data);
    expect(after.loss?.data).toEqual(before.loss?.data);
    // Same names, shapes and dtypes as the first save, and HF's head-model names.
    const names = async (path: string) => {
      const tensors = readSafetensors(await readFile(join(path, "model.safetensors"))).tensors;
      return [...tensors].map(([name, tensor]) => `${name} ${tensor.dtype} [${tensor.shape.join(",")}]`);
    };
    expect(await names(second)).toEqual(await names(first));
    expect(await names(first)).toContain("bert.encoder.layer.1.attention.self.query.weight F32 [8,8]");
    expect(await names(first)).toContain("classifier.weight F32 [3,8]");
  });

  it("takes a new head, fresh, only when told which keys may be missing", async () => {
    const path = await directory();
    const model = BERT.fromConfig(CONFIG);
    const values = initialize(model.parameters, 3);
    await savePretrained(path, { architecture: BERT, model, values, config: CONFIG }, { dtype: "BF16" });
    const sequence = { architectures: ["BertForSequenceClassification"] };
    const error = await fromPretrained(path, { config: sequence }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HfCheckpointError);
    expect(error).toMatchObject({
      problem: "keys",
      missing: ["bert.pooler.dense.weight", "bert.pooler.dense.bias"],
      unexpected: [],
    });
    const config = { ...sequence, num_labels: 4 };
    const pooler = [/^bert\.pooler\./];
    await expect(fromPretrained(path, { config, allowMissing: pooler })).rejects.toThrow(
      "fromPretrained: classifier.weight: expected shape [4,8], got [3,8]",
    );
    const loaded = await fromPretrained(path, {
      config,
      allowMissing: pooler,
      allowMismatched: [/^classifier\./],
      seed: 11,
    });
    expect(loaded.missing).toEqual(["bert.pooler.dense.weight", "bert.pooler.dense.bias"]);
    expect(loaded.mismatched).toEqual(["classifier.weight", "classifier.bias"]);
    expect(encoder(loaded.model).config).toMatchObject({
      head: "sequence-classification",
      labels: 4,
    });
    expect(loaded.values.get("head.classifier.weight")).toEqual(
      initialize(loaded.model.parameters, 11).get("head.classifier.weight"),
    );
    expect(loaded.dtypes.get("bert.encoder.layer.0.output.dense.weight")).toBe("BF16");
    const saved = await directory();
    await savePretrained(saved, loaded);
    const tensors = readSafetensors(await readFile(join(saved, "model.safetensors"))).tensors;
    expect(tensors.get("bert.embeddings.word_embeddings.weight")?.dtype).toBe("BF16");
    expect(tensors.get("classifier.weight")?.dtype).toBe("F32");
    expect(JSON.parse(await readFile(join(saved, "config.json"), "utf8"))).toMatchObject({
      architectures: ["BertForSequenceClassification"],
      num_labels: 4,
      id2label: { 0: "LABEL_0", 3: "LABEL_3" },
    });
  });

  it("names every supported model_type when a checkpoint has another", async () => {
    const path = await directory();
    const model = BERT.fromConfig(CONFIG);
    await savePretrained(path, {
      architecture: BERT,
      model,
      values: initialize(model.parameters, 1),
      config: CONFIG,
    });
    await expect(fromPretrained(path, { config: { model_type: "electra" } })).rejects.toMatchObject({
      problem: "unsupported-model-type",
      supported: ["bert", "roberta", "xlm-roberta", "distilbert", "gpt2", "llama"],
      message:
        'architectureFor: config.model_type: expected one of bert, roberta, xlm-roberta, distilbert, gpt2, llama, got "electra"',
    });
  });

  it("loads the base model's checkpoint layout (no prefix) into a head model", async () => {
    const fixture = fileURLToPath(new URL("../fixtures/encoders/distilbert-mlm/", import.meta.url));
    const loaded = await fromPretrained(fixture, {
      config: { architectures: ["DistilBertModel"] },
      allowUnexpected: [/^vocab_/],
    });
    expect(loaded.unexpected).toEqual([
      "vocab_layer_norm.bias",
      "vocab_layer_norm.weight",
      "vocab_projector.bias",
      "vocab_transform.bias",
      "vocab_transform.weight",
    ]);
    const base = await directory();
    await savePretrained(base, loaded);
    const names = [...readSafetensors(await readFile(join(base, "model.safetensors"))).tensors.keys()];
    expect(names).toContain("embeddings.word_embeddings.weight");
    const back = await fromPretrained(base, {
      config: { architectures: ["DistilBertForMaskedLM"] },
      allowMissing: [/^vocab_/],
    });
    expect(back.values.get("encoder.embeddings.word.weight")).toEqual(
      loaded.values.get("encoder.embeddings.word.weight"),
    );
  });
});
