import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crossEntropy, evaluate, Graph, grad, reshape, type Tensor, type TensorValue } from "@xlt/graph";
import {
  BERT,
  bind,
  causalLmLabels,
  causalLmLoss,
  type DecoderInput,
  type DecoderOutput,
  deriveSeed,
  type EncoderInput,
  type EncoderModelConfig,
  type EncoderModelOutput,
  type ForwardContext,
  flatten,
  Gpt2LmHeadModel,
  HfEncoderModel,
  initialize,
  Linear,
  normal,
  type ParameterTree,
  prefixLabels,
  Random,
  readSafetensors,
  type TensorTree,
  writeSafetensors,
} from "@xlt/nn";
import { compile, type LossFunction } from "@xlt/runtime";
import { afterAll, describe, expect, it } from "vitest";
import { applyLora } from "./lora.js";
import { copyModule } from "./modules.js";
import { moduleNamingFrom } from "./peft-format.js";
import {
  loadPromptTuningAdapter,
  PROMPT_EMBEDDINGS_KEY,
  promptTuningConfigJson,
  readPromptTuningConfig,
  readPromptTuningWeights,
  savePromptTuningAdapter,
  toPromptTuningAdapter,
} from "./prompt-format.js";
import {
  applyPromptTuning,
  PROMPT_ENCODER,
  type PromptTunedModel,
  type PromptTuningConfig,
  promptInitIds,
} from "./prompt-tuning.js";
import { TwoLayer } from "./test-utils/models.js";
import { trainableParameters } from "./trainable.js";

const directories: string[] = [];
afterAll(async () => {
  for (const path of directories) await rm(path, { recursive: true, force: true });
});

// A two-layer BERT token classifier from @xlt/nn, float64, no dropout (as encoder.test.ts).
const bertConfig: EncoderModelConfig = {
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
const bert = new HfEncoderModel(bertConfig, ["O", "B-X", "I-X"], { dtype: "float64" });
const bertValues = initialize(bert.parameters, 3);
const naming = moduleNamingFrom(BERT.mapping(bert));
const PROMPT = `${PROMPT_ENCODER}.embedding.weight`;

const gpt2 = new Gpt2LmHeadModel(
  {
    vocabSize: 20,
    positions: 16,
    hidden: 8,
    layers: 1,
    heads: 2,
    embeddingDropout: 0,
    attentionDropout: 0,
    residualDropout: 0,
  },
  { dtype: "float64" },
);
const gpt2Values = initialize(gpt2.parameters, 4);

const trainable = (model: { readonly parameters: ParameterTree }) =>
  flatten(model.parameters)
    .filter(([, p]) => p.trainable)
    .map(([path]) => path)
    .sort();

const tagging = {
  ids: { data: BigInt64Array.from([2, 7, 9, 4, 11, 3], BigInt), dims: [2, 3] },
  mask: { data: BigInt64Array.from([1, 1, 1, 1, 1, 0], BigInt), dims: [2, 3] },
  labels: { data: BigInt64Array.from([0, 1, 2, 0, 1, -100], BigInt), dims: [2, 3] },
};
const text = {
  ids: { data: BigInt64Array.from([3, 7, 2, 9, 4, 8, 3, 3, 1, 1], BigInt), dims: [2, 5] },
  mask: { data: BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], BigInt), dims: [2, 5] },
};

/** The token classifier's loss: labels cover the text, -100 is prepended for the virtual tokens (PEFT's TOKEN_CLS needs labels of the full length). */
const taggingLoss =
  (model: PromptTunedModel<EncoderInput, EncoderModelOutput>) =>
  (params: TensorTree, inputs: Readonly<Record<string, Tensor>>, context: ForwardContext) => {
    const ids = inputs.ids as Tensor;
    const out = model.forward(params, { ids, mask: inputs.mask as Tensor }, context);
    const logits = out.logits as Tensor; // shape: [batch, virtual + steps, labels]
    const labels = prefixLabels(inputs.labels as Tensor, model.virtualTokens);
    return {
      loss: crossEntropy(reshape(logits, [-1, 3]), reshape(labels, [-1]), -100),
      outputs: { logits },
    };
  };

/** The causal LM's loss on PEFT's labels (-100 for the virtual tokens, every real token's id). */
const lmLoss =
  (model: PromptTunedModel<DecoderInput, DecoderOutput>) =>
  (params: TensorTree, inputs: Readonly<Record<string, Tensor>>, context: ForwardContext) => {
    const ids = inputs.ids as Tensor;
    const mask = inputs.mask as Tensor;
    const { logits } = model.forward(params, { ids, mask }, context);
    return {
      loss: causalLmLoss(logits, causalLmLabels(ids, mask, model.virtualTokens)).loss,
      outputs: { logits },
    };
  };

const int64Inputs = (names: readonly string[]) =>
  Object.fromEntries(names.map((name) => [name, { dtype: "int64" as const, shape: ["batch", "steps"] }]));

/** Three AdamW steps: the parameters that moved, the losses, the final values and the evaluation's logits. */
async function train(
  model: { readonly parameters: ParameterTree },
  loss: LossFunction,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
  batch: Readonly<Record<string, TensorValue>>,
  steps = 3,
) {
  const session = await compile(model, loss, {
    inputs: int64Inputs(Object.keys(batch)),
    optimizer: { kind: "adamw" },
    groups: [{ name: "all", match: /./, lr: 0.05 }],
    values,
  });
  const initial = new Map(session.parameters);
  const losses: number[] = [];
  for (let step = 0; step < steps; step += 1) losses.push((await session.trainStep(batch)).loss);
  const moved: string[] = [];
  for (const [path] of flatten(model.parameters)) {
    const before = initial.get(path) as Float64Array;
    const after = session.parameters.get(path) as Float64Array;
    const same = Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(
      Buffer.from(before.buffer, before.byteOffset, before.byteLength),
    );
    if (!same) moved.push(path);
  }
  const evaluation = await session.evalStep(batch);
  const parameters = new Map(session.parameters);
  await session.release();
  return { moved: moved.sort(), losses, parameters, initial, logits: evaluation.logits };
}

describe("applyPromptTuning", () => {
  it("adds a [virtual, hidden] prompt beside the base parameters, which keep their paths, and freezes the rest", () => {
    const model = applyPromptTuning(bert, { virtualTokens: 4, modulesToSave: ["classifier"] }, naming);
    expect(model.virtualTokens).toBe(4);
    const paths = flatten(model.parameters).map(([path]) => path);
    expect(paths.filter((path) => path !== PROMPT)).toEqual(flatten(bert.parameters).map(([path]) => path));
    expect(flatten(model.parameters).find(([path]) => path === PROMPT)?.[1].shape).toEqual([4, 8]);
    expect(trainable(model)).toEqual(["head.classifier.bias", "head.classifier.weight", PROMPT]);
    const report = trainableParameters(model);
    expect(report.trainable).toBe(4 * 8 + 8 * 3 + 3);
    expect(report.total).toBe(trainableParameters(bert).total + 4 * 8);
    expect(trainable(applyPromptTuning(bert, { virtualTokens: 2 }))).toEqual([PROMPT]);
  });

  it("initialises the prompt N(0, 1) (PEFT's nn.Embedding), from sampled vocabulary rows, or from a text's ids", () => {
    const random = applyPromptTuning(gpt2, { virtualTokens: 3 });
    const drawn = initialize(random.parameters, 9).get(PROMPT);
    const expected = normal(1)([3, 8], new Random(deriveSeed(9, PROMPT)));
    expect(Array.from(drawn ?? [])).toEqual(Array.from(expected));

    const table = gpt2Values.get("transformer.wte.weight") as Float64Array;
    const row = (id: number) => Array.from(table.subarray(id * 8, (id + 1) * 8));
    const sampled = { virtualTokens: 5, init: "sample-vocab" as const, seed: 7 };
    const ids = promptInitIds(sampled, 20) ?? [];
    expect(ids).toHaveLength(5);
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 20)).toBe(true);
    expect(promptInitIds(sampled, 20)).toEqual(ids);
    expect(promptInitIds({ ...sampled, seed: 8 }, 20)).not.toEqual(ids);
    const fromVocab = applyPromptTuning(gpt2, sampled, { values: gpt2Values });
    expect(Array.from(initialize(fromVocab.parameters, 0).get(PROMPT) ?? [])).toEqual(ids.flatMap(row));

    const textConfig: PromptTuningConfig = {
      virtualTokens: 7,
      init: "text",
      initText: "tag it",
      initTextIds: [5, 6, 7],
      tokenizerNameOrPath: "gpt2",
    };
    // PEFT repeats the ids to cover the virtual tokens and cuts them there.
    expect(promptInitIds(textConfig, 20)).toEqual([5, 6, 7, 5, 6, 7, 5]);
    expect(promptInitIds({ ...textConfig, virtualTokens: 2 }, 20)).toEqual([5, 6]);
    const fromText = applyPromptTuning(gpt2, textConfig, { values: gpt2Values });
    expect(Array.from(initialize(fromText.parameters, 0).get(PROMPT) ?? [])).toEqual(
      [5, 6, 7, 5, 6, 7, 5].flatMap(row),
    );
  });

  it("trains only the prompt and the saved classifier of a BERT tagger; frozen weights stay bit for bit", async () => {
    const model = applyPromptTuning(bert, { virtualTokens: 4, modulesToSave: ["classifier"] }, naming);
    const run = await train(model, taggingLoss(model), bertValues, tagging);
    expect(run.moved).toEqual(trainable(model));
    expect(run.losses[2]).toBeLessThan(run.losses[0] as number);
    for (const [path, before] of bertValues)
      if (!run.moved.includes(path)) expect(run.parameters.get(path)).toEqual(before);
    // The logits keep the virtual positions first.
    expect(run.logits?.dims).toEqual([2, 4 + 3, 3]);
  });

  it("trains only the prompt of a GPT-2 language model on PEFT's labels", async () => {
    const model = applyPromptTuning(gpt2, { virtualTokens: 3 });
    const run = await train(model, lmLoss(model), gpt2Values, text);
    expect(run.moved).toEqual([PROMPT]);
    expect(run.losses[2]).toBeLessThan(run.losses[0] as number);
    expect(run.logits?.dims).toEqual([2, 3 + 5, 20]);
  });

  it("composes: LoRA over a prompt-tuned model (keepTrainable) trains both, through the wrapped layers", async () => {
    const tuned = applyPromptTuning(gpt2, { virtualTokens: 3 });
    const model = applyLora(tuned, { targetModules: ["c_attn"], r: 2 }, { keepTrainable: true });
    expect(trainable(model)).toEqual(
      [PROMPT, "transformer.h.layer0.attn.c_attn.lora_A", "transformer.h.layer0.attn.c_attn.lora_B"].sort(),
    );
    const run = await train(model, lmLoss(model), gpt2Values, text);
    expect(run.moved).toEqual(trainable(model));
  });

  it("the prompt's gradient matches central differences in a random direction (float64)", async () => {
    const model = applyPromptTuning(gpt2, { virtualTokens: 3 });
    const graph = new Graph();
    const leaves = new Map<string, Tensor>();
    const params = bind(model.parameters, (path, parameter) => {
      const tensor = graph.input(path, parameter.dtype, parameter.shape);
      leaves.set(path, tensor);
      return tensor;
    });
    const ids = graph.input("ids", "int64", ["batch", "steps"]);
    const mask = graph.input("mask", "int64", ["batch", "steps"]);
    const { loss } = lmLoss(model)(params, { ids, mask }, { training: false });
    const [gradient] = grad(loss, [leaves.get(PROMPT) as Tensor]);
    const values = new Map(gpt2Values);
    const prompt = initialize(model.parameters, 5).get(PROMPT) as Float64Array;
    const at = async (point: Float64Array) => {
      const feeds: Record<string, TensorValue> = { ...text };
      for (const [path, tensor] of leaves)
        feeds[path] = {
          data: path === PROMPT ? point : (values.get(path) as Float64Array),
          dims: tensor.shape.map(Number),
        };
      return evaluate({ loss, gradient: gradient as Tensor }, feeds);
    };
    const random = new Random(11);
    const direction = Float64Array.from(prompt, () => random.normal());
    const h = 1e-5;
    const shifted = (sign: number) =>
      Float64Array.from(prompt, (v, i) => v + sign * h * (direction[i] as number));
    const analytic = Array.from((await at(prompt)).gradient?.data ?? [], Number).reduce(
      (sum, g, i) => sum + g * (direction[i] as number),
      0,
    );
    const plus = Number((await at(shifted(1))).loss?.data[0]);
    const minus = Number((await at(shifted(-1))).loss?.data[0]);
    const numeric = (plus - minus) / (2 * h);
    expect(Math.abs(numeric - analytic)).toBeLessThan(1e-7 * (1 + Math.abs(analytic)));
  });
});

describe("prompt tuning in the Hugging Face PEFT format", () => {
  const fixture = (name: string) => new URL(`../fixtures/peft/prompt-tuning/${name}`, import.meta.url);
  const textConfig: PromptTuningConfig = {
    virtualTokens: 4,
    init: "text",
    initText: "Tag the entities:",
    initTextIds: [2, 17, 5, 9, 11, 3],
    tokenizerNameOrPath: "bert-base-multilingual-cased",
    modulesToSave: ["classifier"],
  };
  const options = {
    ...naming,
    baseModelNameOrPath: "bert-base-multilingual-cased",
    taskType: "TOKEN_CLS" as const,
  };

  it("writes adapter_config.json field for field and prompt_embeddings with the classifier under base_model.", () => {
    const model = applyPromptTuning(bert, textConfig, { ...naming, values: bertValues });
    const values = initialize(model.parameters, 1);
    const files = toPromptTuningAdapter(model, values, textConfig, options);
    return Promise.all([
      readFile(fixture("adapter_config.json"), "utf8"),
      readFile(fixture("tensors.json"), "utf8"),
    ]).then(([config, tensors]) => {
      expect(JSON.parse(files.config)).toEqual(JSON.parse(config));
      const read = readSafetensors(files.weights);
      expect(Object.fromEntries([...read.tensors].map(([key, t]) => [key, t.shape]))).toEqual(
        JSON.parse(tensors),
      );
      // The prompt is saved as is; the classifier in torch's [out, in] layout.
      expect(Array.from(read.tensors.get(PROMPT_EMBEDDINGS_KEY)?.data ?? [], Number)).toEqual(
        Array.from(values.get(PROMPT) ?? []),
      );
      expect(read.tensors.get("base_model.classifier.weight")?.data[1]).toBe(
        values.get("head.classifier.weight")?.[3],
      );
      const back = readPromptTuningConfig(config);
      expect(back).toEqual({
        config: {
          virtualTokens: 4,
          init: "text",
          initText: "Tag the entities:",
          tokenizerNameOrPath: "bert-base-multilingual-cased",
          modulesToSave: ["classifier"],
        },
        tokenDim: 8,
        baseModelNameOrPath: "bert-base-multilingual-cased",
        taskType: "TOKEN_CLS",
      });
      for (const [path, data] of readPromptTuningWeights(model, textConfig, files.weights, naming))
        expect([path, Array.from(data)]).toEqual([path, Array.from(values.get(path) ?? [])]);
    });
  });

  it("round trips a trained adapter through the files: same values, same logits", async () => {
    const model = applyPromptTuning(bert, textConfig, { ...naming, values: bertValues });
    const trained = await train(model, taggingLoss(model), bertValues, tagging);
    const directory = await mkdtemp(join(tmpdir(), "xlt-prompt-"));
    directories.push(directory);
    await savePromptTuningAdapter(directory, model, trained.parameters, textConfig, options);
    const loaded = await loadPromptTuningAdapter(directory, bert, naming);
    expect(loaded.config.modulesToSave).toEqual(["classifier"]);
    expect(trainable(loaded.model)).toEqual(trainable(model));
    for (const [path, data] of loaded.values) expect(data).toEqual(trained.parameters.get(path));
    const values = new Map(bertValues);
    for (const [path, data] of loaded.values) values.set(path, data);
    const again = await train(loaded.model, taggingLoss(loaded.model), values, tagging, 0);
    expect(again.logits?.data).toEqual(trained.logits?.data);
  });

  it("reads prompt_tuning_init RANDOM and SAMPLE_VOCAB, and a config without the optional fields", () => {
    expect(
      readPromptTuningConfig(JSON.stringify({ peft_type: "PROMPT_TUNING", num_virtual_tokens: 3 })),
    ).toEqual({
      config: { virtualTokens: 3, init: "random" },
      tokenDim: null,
      baseModelNameOrPath: null,
      taskType: null,
    });
    const sampled = readPromptTuningConfig(
      JSON.stringify({
        peft_type: "PROMPT_TUNING",
        num_virtual_tokens: 3,
        prompt_tuning_init: "SAMPLE_VOCAB",
      }),
    );
    expect(sampled.config.init).toBe("sample-vocab");
    const model = applyPromptTuning(gpt2, { virtualTokens: 3, init: "sample-vocab" }, { values: gpt2Values });
    expect(promptTuningConfigJson(model, { virtualTokens: 3, init: "sample-vocab" })).toMatchObject({
      prompt_tuning_init: "SAMPLE_VOCAB",
      num_attention_heads: 2,
      num_layers: 1,
      token_dim: 8,
      modules_to_save: null,
      task_type: null,
    });
  });
});

describe("prompt tuning error messages", () => {
  it("applyPromptTuning and promptInitIds", () => {
    expect(() => applyPromptTuning(gpt2, { virtualTokens: 0 })).toThrow(
      "promptInitIds: virtualTokens: expected a positive integer, got 0",
    );
    expect(() => applyPromptTuning(gpt2, { virtualTokens: 2, init: "sample-vocab", seed: 0.5 })).toThrow(
      "promptInitIds: seed: expected an integer, got 0.5",
    );
    const text = { virtualTokens: 2, init: "text" as const, initText: "a", tokenizerNameOrPath: "gpt2" };
    expect(() => applyPromptTuning(gpt2, { ...text, initTextIds: [3, 20] })).toThrow(
      "promptInitIds: initTextIds: expected a non-empty list of token ids in [0, 20), got [3,20]",
    );
    expect(() => applyPromptTuning(gpt2, text)).toThrow(
      "promptInitIds: initTextIds: expected a non-empty list of token ids in [0, 20), got null",
    );
    expect(() => applyPromptTuning(gpt2, { virtualTokens: 2, init: "text", initTextIds: [1] })).toThrow(
      'promptInitIds: initText: expected a string with init "text" (PEFT records the text and its tokenizer), got nothing',
    );
    expect(() =>
      applyPromptTuning(gpt2, { ...text, tokenizerNameOrPath: undefined, initTextIds: [1] }),
    ).toThrow(
      'promptInitIds: tokenizerNameOrPath: expected a string with init "text" (PEFT records the text and its tokenizer), got nothing',
    );
    // @ts-expect-error: an init PEFT does not have, on purpose
    expect(() => promptInitIds({ virtualTokens: 2, init: "vocab" }, 20)).toThrow(
      'promptInitIds: init: expected "random", "sample-vocab" or "text", got "vocab"',
    );
    expect(() => applyPromptTuning(gpt2, { ...text, initTextIds: [1] })).toThrow(
      "applyPromptTuning: options.values.transformer.wte.weight: expected the word embeddings (160 values) to copy the prompt from, got nothing",
    );
    expect(() =>
      applyPromptTuning(
        gpt2,
        { ...text, initTextIds: [1] },
        { values: new Map([["transformer.wte.weight", new Float64Array(3)]]) },
      ),
    ).toThrow(
      "applyPromptTuning: options.values.transformer.wte.weight: expected the word embeddings (160 values) to copy the prompt from, got 3 values",
    );
    // @ts-expect-error: a model whose input takes no prefix, on purpose
    expect(() => applyPromptTuning(new TwoLayer([2, 3, 4]), { virtualTokens: 2 })).toThrow(
      "applyPromptTuning: wordEmbeddings: expected a model with its word Embedding at one of encoder.embeddings.word, embeddings.word, transformer.wte, wte, model.embed_tokens, embed_tokens, got null",
    );
    expect(() =>
      applyPromptTuning(gpt2, { virtualTokens: 2 }, { wordEmbeddings: "transformer.wpe.x" }),
    ).toThrow(
      'applyPromptTuning: wordEmbeddings: expected the path of an Embedding module, got "transformer.wpe.x"',
    );
    // @ts-expect-error: a model whose input takes no prefix, on purpose
    expect(() => applyPromptTuning(new Linear(2, 3), { virtualTokens: 2 })).toThrow(
      "applyPromptTuning: model: expected a model with submodules in `modules`, got Linear",
    );
    expect(() => applyPromptTuning(gpt2, { virtualTokens: 2, modulesToSave: ["score"] })).toThrow(
      'applyPromptTuning: modulesToSave: expected names of modules in the model, got "score"',
    );
    const tuned = applyPromptTuning(gpt2, { virtualTokens: 2 });
    expect(() => applyPromptTuning(tuned, { virtualTokens: 2 })).toThrow(
      'PromptTunedModel: base: expected a model without a "prompt_encoder", got a prompt-tuned model',
    );
  });

  it("PromptTunedModel", () => {
    const tuned = applyPromptTuning(gpt2, { virtualTokens: 2 });
    const broken = copyModule(tuned, { modules: { ...tuned.modules, [PROMPT_ENCODER]: new Linear(2, 2) } });
    expect(() => broken.prompt).toThrow(
      "PromptTunedModel.prompt: prompt_encoder: expected a PromptEmbedding, got Linear",
    );
    const graph = new Graph();
    const params = bind(tuned.parameters, (path, parameter) =>
      graph.input(path, parameter.dtype, parameter.shape),
    );
    const ids = graph.input("ids", "int64", ["batch", "steps"]);
    const prefix = graph.input("prefix", "float64", [2, 8]);
    expect(() => tuned.forward(params, { ids, prefix }, { training: false })).toThrow(
      "PromptTunedModel.forward: input.prefix: expected none (the model prepends its prompt), got a tensor [2,8]",
    );
  });

  it("the PEFT files", async () => {
    const model = applyPromptTuning(gpt2, { virtualTokens: 2 });
    expect(() => promptTuningConfigJson(model, { virtualTokens: 3 })).toThrow(
      "promptTuningConfigJson: config.virtualTokens: expected 2 (the model's), got 3",
    );
    // @ts-expect-error: an init PEFT does not have, on purpose
    expect(() => promptTuningConfigJson(model, { virtualTokens: 2, init: "zeros" })).toThrow(
      'promptTuningConfigJson: config.init: expected "random", "sample-vocab" or "text", got "zeros"',
    );
    expect(() => toPromptTuningAdapter(model, new Map(), { virtualTokens: 2 })).toThrow(
      "toPromptTuningAdapter: values.prompt_encoder.embedding.weight: expected 16 values, got nothing",
    );
    const read = (json: unknown) => () =>
      readPromptTuningConfig(typeof json === "string" ? json : JSON.stringify(json));
    expect(read("{")).toThrow('readPromptTuningConfig: adapter_config.json: expected JSON, got "{"');
    expect(read([1])).toThrow("readPromptTuningConfig: adapter_config.json: expected a JSON object, got [1]");
    for (const [type, name] of [
      ["PREFIX_TUNING", "prefix tuning"],
      ["P_TUNING", "P-tuning"],
      ["MULTITASK_PROMPT_TUNING", "multitask prompt tuning"],
    ])
      expect(read({ peft_type: type, num_virtual_tokens: 2 })).toThrow(
        `readPromptTuningConfig: adapter_config.json: peft_type: expected "PROMPT_TUNING" (${name} is not supported by @xlt/peft), got "${type}"`,
      );
    expect(read({ peft_type: "LORA" })).toThrow(
      'readPromptTuningConfig: adapter_config.json: peft_type: expected "PROMPT_TUNING", got "LORA"',
    );
    expect(read({ peft_type: "PROMPT_TUNING", num_virtual_tokens: 0 })).toThrow(
      "readPromptTuningConfig: adapter_config.json: num_virtual_tokens: expected a positive integer, got 0",
    );
    expect(
      read({ peft_type: "PROMPT_TUNING", num_virtual_tokens: 2, num_transformer_submodules: 2 }),
    ).toThrow(
      "readPromptTuningConfig: adapter_config.json: num_transformer_submodules: expected 1 (prompts for encoder-decoder models are not supported by @xlt/peft), got 2",
    );
    expect(read({ peft_type: "PROMPT_TUNING", num_virtual_tokens: 2, prompt_tuning_init: "ZEROS" })).toThrow(
      'readPromptTuningConfig: adapter_config.json: prompt_tuning_init: expected "RANDOM", "SAMPLE_VOCAB" or "TEXT", got "ZEROS"',
    );
    expect(read({ peft_type: "PROMPT_TUNING", num_virtual_tokens: 2, token_dim: "8" })).toThrow(
      'readPromptTuningConfig: adapter_config.json: token_dim: expected a number, got "8"',
    );

    const values = initialize(model.parameters, 2);
    const good = toPromptTuningAdapter(model, values, { virtualTokens: 2 });
    const config = { virtualTokens: 2 };
    expect(() => readPromptTuningWeights(model, config, writeTensors({ other: [1, 1] }))).toThrow(
      "readPromptTuningWeights: adapter_model.safetensors: other: expected a tensor of the prompt-tuned model, got an unknown key",
    );
    expect(() =>
      readPromptTuningWeights(model, config, writeTensors({ [PROMPT_EMBEDDINGS_KEY]: [2, 7] })),
    ).toThrow(
      "readPromptTuningWeights: adapter_model.safetensors: prompt_embeddings: expected shape [2, 8], got [2, 7]",
    );
    expect(() => readPromptTuningWeights(model, config, writeTensors({}))).toThrow(
      "readPromptTuningWeights: adapter_model.safetensors: prompt_embeddings: expected a tensor, got nothing",
    );
    expect(() =>
      readPromptTuningWeights(model, config, writeTensors({ [PROMPT_EMBEDDINGS_KEY]: [2, 8] }, "I64")),
    ).toThrow(
      "readPromptTuningWeights: adapter_model.safetensors: prompt_embeddings: expected F32, F64, F16 or BF16, got I64",
    );
    expect(readPromptTuningWeights(model, config, good.weights).get(PROMPT)).toEqual(values.get(PROMPT));

    const directory = await mkdtemp(join(tmpdir(), "xlt-prompt-"));
    directories.push(directory);
    await savePromptTuningAdapter(directory, model, values, config);
    const wider = new Gpt2LmHeadModel({ ...gpt2.config, hidden: 12, heads: 2 }, { dtype: "float64" });
    await expect(loadPromptTuningAdapter(directory, wider)).rejects.toThrow(
      "loadPromptTuningAdapter: adapter_config.json: token_dim: expected 12 (the model's hidden size), got 8",
    );
  });
});

/** A safetensors file of zero tensors with the given shapes. */
function writeTensors(
  shapes: Readonly<Record<string, readonly number[]>>,
  dtype: "F64" | "I64" = "F64",
): Uint8Array {
  const tensors = new Map(
    Object.entries(shapes).map(([key, shape]) => {
      const size = shape.reduce((p, d) => p * d, 1);
      return [
        key,
        dtype === "F64"
          ? { dtype, shape: [...shape], data: new Float64Array(size) }
          : { dtype, shape: [...shape], data: new BigInt64Array(size) },
      ] as const;
    }),
  );
  return writeSafetensors(tensors);
}
