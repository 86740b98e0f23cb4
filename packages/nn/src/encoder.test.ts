import { evaluate, Graph, grad, mul, reduceSum, type Tensor, type TensorValue } from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { BERT, DISTILBERT, ROBERTA } from "./bert.js";
import { EncoderEmbeddings, encoderLayerGroups, HIDDEN_ACTIVATIONS, TransformerEncoder } from "./encoder.js";
import { EncoderModel, type EncoderModelConfig } from "./encoder-model.js";
import { bind, flatten, initialize, type ParameterTree, type TensorTree } from "./parameters.js";

const TINY: EncoderModelConfig = {
  family: "bert",
  head: "token-classification",
  vocabSize: 11,
  hidden: 8,
  layers: 2,
  heads: 2,
  intermediate: 12,
  maxPositions: 8,
  typeVocabSize: 2,
  labels: 3,
  hiddenDropout: 0.3,
  attentionDropout: 0.3,
};

const ids: TensorValue = { data: BigInt64Array.of(1n, 5n, 7n, 2n, 3n, 9n, 0n, 0n), dims: [2, 4] };
const mask: TensorValue = { data: BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n), dims: [2, 4] };

/** Binds `tree` to graph inputs and returns the feeds of its seeded initial values. */
function inputs(
  graph: Graph,
  tree: ParameterTree,
  seed: number,
): [TensorTree, Record<string, TensorValue>, Map<string, Tensor>] {
  const values = initialize(tree, seed);
  const feeds: Record<string, TensorValue> = {};
  const leaves = new Map<string, Tensor>();
  const params = bind(tree, (path, parameter) => {
    feeds[path] = { data: values.get(path) as Float32Array, dims: parameter.shape };
    const tensor = graph.input(path, parameter.dtype, parameter.shape);
    leaves.set(path, tensor);
    return tensor;
  });
  return [params, feeds, leaves];
}

describe("TransformerEncoder and EncoderModel", () => {
  it("dropout is keyed and per site: same key same output, new key new masks, none in evaluation", async () => {
    const model = new EncoderModel(TINY, { seed: 5 });
    const graph = new Graph();
    const [params, feeds] = inputs(graph, model.parameters, 1);
    const idsIn = graph.input("ids", "int64", ["batch", "steps"]);
    const maskIn = graph.input("mask", "int64", ["batch", "steps"]);
    const key = graph.input("key", "int64", []);
    const input = { ids: idsIn, mask: maskIn };
    const train = (context: { training: boolean; key?: Tensor }) =>
      model.forward(params, input, context).logits as Tensor;
    const outputs = {
      a: train({ training: true, key }),
      b: train({ training: true, key }),
      evaluation: train({ training: false }),
      plain: new EncoderModel({
        ...TINY,
        hiddenDropout: 0,
        attentionDropout: 0,
        classifierDropout: 0,
      }).forward(params, input, { training: true, key }).logits as Tensor,
    };
    const run = (step: bigint) =>
      evaluate(outputs, { ...feeds, ids, mask, key: { data: BigInt64Array.of(step), dims: [] } });
    const [first, second] = [await run(1n), await run(2n)];
    const list = (value: TensorValue | undefined) => Array.from(value?.data ?? [], Number);
    expect(list(first.a)).toEqual(list(first.b));
    expect(list(first.a)).toEqual(list((await run(1n)).a));
    expect(list(second.a)).not.toEqual(list(first.a));
    expect(list(first.evaluation)).toEqual(list(first.plain));
    expect(list(first.a)).not.toEqual(list(first.evaluation));
    // Different model seeds give different masks.
    const other = new EncoderModel(TINY, { seed: 6 }).forward(params, input, { training: true, key })
      .logits as Tensor;
    const reseeded = await evaluate(
      { other },
      { ...feeds, ids, mask, key: { data: BigInt64Array.of(1n), dims: [] } },
    );
    expect(list(reseeded.other)).not.toEqual(list(first.a));
  });

  it("gradient checkpointing gives the same loss and gradients", async () => {
    const results = await Promise.all(
      [false, true].map(async (gradientCheckpointing) => {
        const model = new EncoderModel(TINY, { dtype: "float64", seed: 2, gradientCheckpointing });
        const graph = new Graph();
        const [params, feeds, leaves] = inputs(graph, model.parameters, 3);
        const key = graph.input("key", "int64", []);
        const logits = model.forward(
          params,
          { ids: graph.input("ids", "int64", [2, 4]), mask: graph.input("mask", "int64", [2, 4]) },
          { training: true, key },
        ).logits as Tensor;
        const loss = reduceSum(mul(logits, logits));
        const paths = [...leaves.keys()];
        const grads = grad(
          loss,
          paths.map((path) => leaves.get(path) as Tensor),
        );
        const out = await evaluate(
          {
            loss,
            ...Object.fromEntries(paths.map((path, index) => [`grad:${path}`, grads[index] as Tensor])),
          },
          { ...feeds, ids, mask, key: { data: BigInt64Array.of(4n), dims: [] } },
        );
        return Object.fromEntries(
          Object.entries(out).map(([name, value]) => [name, Array.from(value.data, Number)]),
        );
      }),
    );
    const [plain, checkpointed] = results as [Record<string, number[]>, Record<string, number[]>];
    expect(Object.keys(checkpointed).length).toBe(flatten(new EncoderModel(TINY).parameters).length + 1);
    for (const [name, values] of Object.entries(plain))
      for (const [index, v] of values.entries()) expect(checkpointed[name]?.[index]).toBeCloseTo(v, 10);
  });

  it("layer groups partition the parameters: embeddings, each layer, head", () => {
    const model = new EncoderModel(TINY);
    const groups = model.layerGroups();
    expect(groups.map((group) => group.name)).toEqual(["embeddings", "layer0", "layer1", "head"]);
    const paths = flatten(model.parameters).map(([path]) => path);
    for (const path of paths) expect(groups.filter((group) => group.match.test(path)).length, path).toBe(1);
    const grouped = (name: string) =>
      paths.filter((path) => groups.find((g) => g.name === name)?.match.test(path));
    expect(grouped("embeddings")).toEqual([
      "encoder.embeddings.word.weight",
      "encoder.embeddings.position.weight",
      "encoder.embeddings.tokenType.weight",
      "encoder.embeddings.norm.weight",
      "encoder.embeddings.norm.bias",
    ]);
    expect(grouped("layer1").length).toBe(16);
    expect(grouped("head")).toEqual(["head.classifier.weight", "head.classifier.bias"]);
    const bare = encoderLayerGroups(2, "");
    expect(bare.map((group) => group.name)).toEqual(["embeddings", "layer0", "layer1"]);
    const encoder = new TransformerEncoder(TINY);
    for (const [path] of flatten(encoder.parameters))
      expect(bare.filter((group) => group.match.test(path)).length, path).toBe(1);
    const distil = new EncoderModel({ ...TINY, family: "distilbert", head: "base" });
    expect(distil.layerGroups().map((group) => group.name)).toEqual(["embeddings", "layer0", "layer1"]);
  });

  it("exposes every layer's hidden states and RoBERTa's padding-aware positions", async () => {
    const model = ROBERTA.fromConfig({
      model_type: "roberta",
      vocab_size: 11,
      hidden_size: 4,
      num_hidden_layers: 3,
      num_attention_heads: 2,
      intermediate_size: 8,
      max_position_embeddings: 10,
      type_vocab_size: 1,
    });
    const graph = new Graph();
    const [params, feeds] = inputs(graph, model.parameters, 1);
    const idsIn = graph.input("ids", "int64", ["batch", "steps"]);
    const out = model.forward(params, { ids: idsIn }, { training: false });
    expect(out.hiddenStates.length).toBe(4);
    expect(out.pooled?.shape).toEqual(["batch", 4]);
    const embeddings = model.modules.encoder.modules.embeddings;
    if (!(embeddings instanceof EncoderEmbeddings)) throw new Error("expected EncoderEmbeddings");
    const result = await evaluate(
      { positions: embeddings.positions(idsIn) },
      { ...feeds, ids: { data: BigInt64Array.of(0n, 5n, 1n, 1n, 0n, 1n, 7n, 2n), dims: [2, 4] } },
    );
    // create_position_ids_from_input_ids with padding_idx 1: real tokens count from 2, padding keeps 1.
    expect(Array.from(result.positions?.data ?? [], Number)).toEqual([2, 3, 1, 1, 2, 1, 3, 4]);
  });

  it("every hidden activation runs in float64 on onnxruntime and equals its formula to 1e-13 (float32 kernels would be 1e-7 off)", async () => {
    // silu written x·sigmoid(x) was fused by onnxruntime into QuickGelu, which has no float64 kernel.
    const erf = (x: number) => {
      // Abramowitz-Stegun 7.1.26 is too coarse; integrate exp(-t²) with Simpson's rule instead.
      const n = 2000;
      const h = x / n;
      let sum = 1 + Math.exp(-x * x);
      for (let i = 1; i < n; i += 1) sum += (i % 2 === 1 ? 4 : 2) * Math.exp(-((i * h) ** 2));
      return (2 / Math.sqrt(Math.PI)) * (h / 3) * sum;
    };
    const tanhGelu = (x: number) =>
      0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    const formulas: Record<string, (x: number) => number> = {
      gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
      gelu_new: tanhGelu,
      gelu_pytorch_tanh: tanhGelu,
      gelu_fast: tanhGelu,
      relu: (x) => Math.max(0, x),
      silu: (x) => x / (1 + Math.exp(-x)),
      tanh: Math.tanh,
    };
    expect(Object.keys(formulas).sort()).toEqual(Object.keys(HIDDEN_ACTIVATIONS).sort());
    const xs = Float64Array.from({ length: 41 }, (_, i) => (i - 20) / 4);
    const graph = new Graph();
    const x = graph.input("x", "float64", [xs.length]);
    const outputs = Object.fromEntries(Object.entries(HIDDEN_ACTIVATIONS).map(([name, f]) => [name, f(x)]));
    const result = await evaluate(outputs, { x: { data: xs, dims: [xs.length] } });
    for (const [name, formula] of Object.entries(formulas)) {
      const got = result[name]?.data;
      if (!(got instanceof Float64Array)) throw new Error(`${name}: expected float64 output`);
      got.forEach((value, i) => {
        const want = formula(xs[i] as number);
        expect(Math.abs(value - want), `${name}(${xs[i]})`).toBeLessThanOrEqual(
          1e-13 * Math.max(1, Math.abs(want)),
        );
      });
    }
  });

  it("rejects bad configs and inputs with typed errors", () => {
    expect(() => new EncoderModel({ ...TINY, hidden: 0 })).toThrow(
      "TransformerEncoder: config.hidden: expected a positive integer, got 0",
    );
    expect(() => new EncoderModel({ ...TINY, heads: 3 })).toThrow(
      "EncoderSelfAttention: heads: expected a divisor of hidden (8), got 3",
    );
    expect(() => new EncoderModel({ ...TINY, typeVocabSize: -1 })).toThrow(
      "TransformerEncoder: config.typeVocabSize: expected an integer >= 0, got -1",
    );
    expect(() => new EncoderModel({ ...TINY, padTokenId: 1.5 })).toThrow(
      "TransformerEncoder: config.padTokenId: expected an integer >= 0, got 1.5",
    );
    expect(() => new EncoderModel({ ...TINY, attentionDropout: 1 })).toThrow(
      "TransformerEncoder: config.attentionDropout: expected a number in [0, 1), got 1",
    );
    expect(() => new EncoderModel({ ...TINY, activation: "swiglu" as never })).toThrow(
      'EncoderLayer: activation: expected one of gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, tanh, got "swiglu"',
    );
    expect(() => new EncoderModel({ ...TINY, family: "gpt2" as never })).toThrow(
      'EncoderModel: config.family: expected one of bert, roberta, xlm-roberta, distilbert, got "gpt2"',
    );
    expect(() => new EncoderModel({ ...TINY, head: "qa" as never })).toThrow(
      'EncoderModel: config.head: expected one of base, masked-lm, token-classification, sequence-classification, got "qa"',
    );
    expect(() => new EncoderModel({ ...TINY, labels: 0 })).toThrow(
      "EncoderModel: config.labels: expected a positive integer, got 0",
    );
    expect(() => new EncoderModel({ ...TINY, classifierDropout: -0.1 })).toThrow(
      "EncoderModel: config.classifierDropout: expected a number in [0, 1), got -0.1",
    );
    const model = new EncoderModel(TINY);
    const graph = new Graph();
    const params = bind(model.parameters, (path, parameter) =>
      graph.input(path, parameter.dtype, parameter.shape),
    );
    const good = graph.input("ids", "int64", [2, 4]);
    const context = { training: false };
    expect(() => model.forward(params, { ids: graph.input("f", "float32", [2, 4]) }, context)).toThrow(
      "TransformerEncoder.forward: ids: expected an int64 tensor [batch, steps], got float32[2,4]",
    );
    expect(() =>
      model.forward(params, { ids: good, mask: graph.input("m", "float32", [2, 4]) }, context),
    ).toThrow(
      "TransformerEncoder.forward: mask: expected a bool or int64 tensor [batch, steps], got float32[2,4]",
    );
    expect(() =>
      model.forward(params, { ids: good, tokenTypes: graph.input("t", "int64", [8]) }, context),
    ).toThrow(
      "TransformerEncoder.forward: tokenTypes: expected an int64 tensor [batch, steps], got int64[8]",
    );
  });

  it("reads Hugging Face configs and refuses what it does not implement", () => {
    const bert = {
      model_type: "bert",
      vocab_size: 11,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 12,
    };
    const tagger = BERT.fromConfig({
      ...bert,
      architectures: ["BertForTokenClassification"],
      id2label: { 0: "O", 1: "B-PER" },
    });
    expect(tagger.config.labels).toBe(2);
    expect(tagger.labelNames).toEqual(["O", "B-PER"]);
    const resized = BERT.fromConfig({
      ...bert,
      architectures: ["BertForTokenClassification"],
      id2label: { 0: "O" },
      num_labels: 3,
    });
    expect(resized.labelNames).toEqual(["LABEL_0", "LABEL_1", "LABEL_2"]);
    expect(BERT.fromConfig({ ...bert, architectures: ["BertForPreTraining"] }).config.head).toBe("masked-lm");
    expect(BERT.toConfig(tagger)).toMatchObject({
      architectures: ["BertForTokenClassification"],
      id2label: { 0: "O", 1: "B-PER" },
      label2id: { O: 0, "B-PER": 1 },
      type_vocab_size: 2,
      max_position_embeddings: 512,
    });
    expect(() => BERT.fromConfig({ ...bert, architectures: ["BertForQuestionAnswering"] })).toThrow(
      'bertConfig: config.architectures[0]: expected one of BertModel, BertForMaskedLM, BertForTokenClassification, BertForSequenceClassification, got "BertForQuestionAnswering"',
    );
    expect(() => BERT.fromConfig({ ...bert, position_embedding_type: "relative_key" })).toThrow(
      'bertConfig: config.position_embedding_type: expected "absolute" or absent, got "relative_key"',
    );
    expect(() => BERT.fromConfig({ ...bert, hidden_act: "mish" })).toThrow(
      'bertConfig: config.hidden_act: expected one of gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, tanh, got "mish"',
    );
    expect(() => BERT.fromConfig({ ...bert, pad_token_id: -1 })).toThrow(
      "bertConfig: config.pad_token_id: expected an integer >= 0, got -1",
    );
    expect(() => DISTILBERT.fromConfig({ model_type: "distilbert", sinusoidal_pos_embds: true })).toThrow(
      "distilbertConfig: config.sinusoidal_pos_embds: expected false or absent, got true",
    );
    expect(() => BERT.fromConfig({ ...bert, vocab_size: undefined })).toThrow(
      "bertConfig: config.vocab_size: expected a positive integer, got undefined",
    );
  });
});
