import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  cast,
  evaluate,
  Graph,
  grad,
  mul,
  reduceSum,
  type Tensor,
  type TensorValue,
  unsqueeze,
} from "@xlt/graph";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encoderArchitecture } from "./bert.js";
import { type CausalLm, causalLmLabels, causalLmLoss, decoderSequence } from "./decoder.js";
import type { EncoderFamily } from "./encoder-model.js";
import { Gpt2LmHeadModel, gpt2Config, gpt2TensorNames } from "./gpt2.js";
import type { HfTensorMapping } from "./hf-checkpoint.js";
import { LlamaForCausalLm, llamaConfig, llamaTensorNames } from "./llama.js";
import { bind } from "./parameters.js";
import { prefixLabels } from "./prefix.js";
import { fromPretrained } from "./pretrained.js";
import { readSafetensors, type SafetensorsTensor } from "./safetensors.js";
import { loadFixture, parameterValues } from "./test-utils/decoder-fixtures.js";

const prompts = (name: string): ReadonlyMap<string, SafetensorsTensor> =>
  readSafetensors(readFileSync(new URL(`../fixtures/prompts/${name}.safetensors`, import.meta.url))).tensors;
const encoderFolder = (name: string) =>
  fileURLToPath(new URL(`../fixtures/encoders/${name}/`, import.meta.url));

function value(map: ReadonlyMap<string, SafetensorsTensor>, name: string): TensorValue {
  const tensor = map.get(name);
  if (!tensor || (tensor.dtype !== "F64" && tensor.dtype !== "I64")) throw new Error(`fixture lacks ${name}`);
  return { data: tensor.data, dims: tensor.shape };
}

/** Largest |actual - expected| / (1 + |expected|). */
function worst(actual: ArrayLike<number | bigint> | undefined, expected: ArrayLike<number | bigint>): number {
  expect(actual?.length).toBe(expected.length);
  let error = 0;
  for (let index = 0; index < expected.length; index += 1) {
    const want = Number(expected[index]);
    error = Math.max(error, Math.abs(Number(actual?.[index]) - want) / (1 + Math.abs(want)));
  }
  return error;
}

const ENCODERS: [name: string, family: EncoderFamily][] = [
  ["bert-seq", "bert"],
  ["roberta-token", "roberta"],
  ["distilbert-mlm", "distilbert"],
];

/** An encoder fixture's model with a prompt: outputs, loss `sum(logits · weights)` and its gradient for the prompt. */
async function runEncoder(name: string, family: EncoderFamily, options: { shared?: boolean } = {}) {
  const expected = prompts(name);
  const loaded = await fromPretrained(encoderFolder(name), {
    architecture: encoderArchitecture(family, { dtype: "float64" }),
  });
  const graph = new Graph();
  const params = bind(loaded.model.parameters, (path, parameter) =>
    graph.input(path, parameter.dtype, parameter.shape),
  );
  const [virtual = 0, hidden = 0] = expected.get("prompt")?.shape ?? [];
  const ids = graph.input("ids", "int64", ["batch", "steps"]);
  const mask = graph.input("mask", "int64", ["batch", "steps"]);
  const tokenTypes = graph.input("types", "int64", ["batch", "steps"]);
  const batch = value(expected, "input_ids").dims[0] ?? 0;
  const shared = options.shared ?? true;
  const prefix = graph.input("prefix", "float64", shared ? [virtual, hidden] : ["batch", virtual, hidden]);
  const out = loaded.model.forward(params, { ids, mask, tokenTypes, prefix }, { training: false });
  const logits = out.logits as Tensor;
  const weights = graph.input("weights", "float64", logits.shape);
  const loss = reduceSum(mul(logits, weights));
  const [gradient] = grad(loss, [prefix]);
  const promptData = Array.from(expected.get("prompt")?.data ?? [], Number);
  const feeds: Record<string, TensorValue> = {
    ids: value(expected, "input_ids"),
    mask: value(expected, "attention_mask"),
    types: value(expected, "token_type_ids"),
    weights: value(expected, "loss_weights"),
    prefix: shared
      ? { data: Float64Array.from(promptData), dims: [virtual, hidden] }
      : {
          data: Float64Array.from(
            { length: batch * promptData.length },
            (_, i) => promptData[i % promptData.length] ?? 0,
          ),
          dims: [batch, virtual, hidden],
        },
  };
  const shapes = new Map(graph.inputs.map((input) => [input.name, input.shape as number[]]));
  for (const [path, data] of loaded.values)
    feeds[path] = { data: Float64Array.from(data), dims: shapes.get(path) ?? [] };
  const result = await evaluate({ logits, hidden: out.hidden, loss, gradient: gradient as Tensor }, feeds);
  return { result, expected };
}

describe("encoders with a prompt prefix against the torch oracle (fixtures/make_prompts.py)", () => {
  for (const [name, family] of ENCODERS) {
    it(`${name}: logits, last hidden state, loss and the prompt's gradient match float64 torch`, async () => {
      const { result, expected } = await runEncoder(name, family);
      const [batch, steps] = value(expected, "input_ids").dims as number[];
      const virtual = expected.get("prompt")?.shape[0] ?? 0;
      // The outputs keep the virtual positions first.
      expect(result.hidden?.dims.slice(0, 2)).toEqual([batch, virtual + (steps ?? 0)]);
      const errors = [
        worst(result.logits?.data, value(expected, "logits").data),
        worst(result.hidden?.data, value(expected, "hidden").data),
        worst(result.loss?.data, value(expected, "loss").data),
        worst(result.gradient?.data, value(expected, "grad.prompt").data),
      ];
      expect(Math.max(...errors)).toBeLessThan(1e-10);
    });
  }

  it("a [batch, virtual, hidden] prefix with the same rows gives the shared prefix's outputs", async () => {
    const shared = await runEncoder("bert-seq", "bert");
    const rows = await runEncoder("bert-seq", "bert", { shared: false });
    expect(worst(rows.result.logits?.data, shared.result.logits?.data ?? [])).toBeLessThan(1e-14);
    // Per-row gradients sum to the shared prompt's gradient.
    const perRow = Array.from(rows.result.gradient?.data ?? [], Number);
    const size = shared.result.gradient?.data.length ?? 0;
    const summed = Array.from({ length: size }, (_, i) => (perRow[i] ?? 0) + (perRow[i + size] ?? 0));
    expect(worst(summed, shared.result.gradient?.data ?? [])).toBeLessThan(1e-12);
  });
});

const DECODERS: [
  name: string,
  build: (config: Record<string, unknown>) => CausalLm,
  names: (model: CausalLm) => HfTensorMapping[],
][] = [
  [
    "gpt2",
    (config) => new Gpt2LmHeadModel(gpt2Config(config), { dtype: "float64" }),
    (model) => gpt2TensorNames(model as Gpt2LmHeadModel),
  ],
  [
    "llama-gqa",
    (config) => new LlamaForCausalLm(llamaConfig(config), { dtype: "float64" }),
    (model) => llamaTensorNames(model as LlamaForCausalLm),
  ],
];

async function runDecoderWithPrompt(
  name: string,
  build: (config: Record<string, unknown>) => CausalLm,
  names: (model: CausalLm) => HfTensorMapping[],
) {
  const fixture = loadFixture(name);
  const expected = prompts(name);
  const model = build(fixture.config);
  const graph = new Graph();
  const params = bind(model.parameters, (path, parameter) => graph.input(path, "float64", parameter.shape));
  const [virtual = 0, hidden = 0] = expected.get("prompt")?.shape ?? [];
  const ids = graph.input("ids", "int64", ["batch", "steps"]);
  const mask = graph.input("mask", "int64", ["batch", "steps"]);
  const prefix = graph.input("prefix", "float64", [virtual, hidden]);
  const { logits, hiddenStates } = model.forward(params, { ids, mask, prefix }, { training: false });
  const labels = causalLmLabels(ids, mask, virtual);
  const { loss, nll, count } = causalLmLoss(logits, labels);
  const [gradient] = grad(loss, [prefix]);
  const feeds: Record<string, TensorValue> = {
    ids: value(expected, "input_ids"),
    mask: value(expected, "attention_mask"),
    prefix: value(expected, "prompt"),
  };
  const shapes = new Map(graph.inputs.map((input) => [input.name, input.shape as number[]]));
  for (const [path, data] of parameterValues(fixture, names(model)))
    feeds[path] = { data, dims: shapes.get(path) ?? [] };
  const outputs = {
    logits,
    hidden: hiddenStates[hiddenStates.length - 1] as Tensor,
    labels,
    loss,
    nll,
    count,
  };
  return { result: await evaluate({ ...outputs, gradient: gradient as Tensor }, feeds), expected };
}

describe("decoders with a prompt prefix against the torch oracle (fixtures/make_prompts.py)", () => {
  for (const [name, build, names] of DECODERS) {
    it(`${name}: PEFT's labels, logits, last hidden state, loss and the prompt's gradient match float64 torch`, async () => {
      const { result, expected } = await runDecoderWithPrompt(name, build, names);
      expect(Array.from(result.labels?.data ?? [], Number)).toEqual(
        Array.from(value(expected, "labels").data, Number),
      );
      const errors = [
        worst(result.logits?.data, value(expected, "logits").data),
        worst(result.hidden?.data, value(expected, "hidden").data),
        worst(result.loss?.data, value(expected, "loss").data),
        worst(result.nll?.data, value(expected, "nll").data),
        worst(result.count?.data, value(expected, "count").data),
        worst(result.gradient?.data, value(expected, "grad.prompt").data),
      ];
      expect(Math.max(...errors)).toBeLessThan(1e-10);
    });
  }
});

describe("prompt prefix behaviour and errors", () => {
  it("without a mask, a decoder's virtual tokens and text are all real (as an all-ones mask)", async () => {
    const [name, build, names] = DECODERS[0] as (typeof DECODERS)[number];
    const fixture = loadFixture(name);
    const model = build(fixture.config);
    const graph = new Graph();
    const params = bind(model.parameters, (path, parameter) => graph.input(path, "float64", parameter.shape));
    const ids = graph.input("ids", "int64", ["batch", "steps"]);
    const mask = graph.input("mask", "int64", ["batch", "steps"]);
    const prefix = graph.input("prefix", "float64", [2, 12]);
    const bare = model.forward(params, { ids, prefix }, { training: false }).logits;
    const masked = model.forward(params, { ids, mask, prefix }, { training: false }).logits;
    const unmaskedLabels = causalLmLabels(ids, undefined, 2);
    const feeds: Record<string, TensorValue> = {
      ids: { data: BigInt64Array.of(3n, 7n, 2n, 9n, 8n, 4n), dims: [2, 3] },
      mask: { data: BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 1n), dims: [2, 3] },
      prefix: { data: Float64Array.from({ length: 24 }, (_, i) => Math.sin(i)), dims: [2, 12] },
    };
    const shapes = new Map(graph.inputs.map((input) => [input.name, input.shape as number[]]));
    for (const [path, data] of parameterValues(fixture, names(model)))
      feeds[path] = { data, dims: shapes.get(path) ?? [] };
    const out = await evaluate({ bare, masked, unmaskedLabels }, feeds);
    expect(out.bare?.dims).toEqual([2, 5, 29]);
    expect(worst(out.bare?.data, out.masked?.data ?? [])).toBeLessThan(1e-14);
    expect(Array.from(out.unmaskedLabels?.data ?? [], Number)).toEqual([
      -100, -100, 3, 7, 2, -100, -100, 9, 8, 4,
    ]);
  });

  it("decoderSequence and causalLmLabels with a prefix match a brute-force count over any mask (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }).chain((steps) =>
          fc.array(fc.array(fc.boolean(), { minLength: steps, maxLength: steps }), {
            minLength: 1,
            maxLength: 3,
          }),
        ),
        async (virtual, rows) => {
          const [batch, steps] = [rows.length, rows[0]?.length ?? 0];
          const graph = new Graph();
          const ids = graph.input("ids", "int64", ["batch", "steps"]);
          const mask = graph.input("mask", "bool", ["batch", "steps"]);
          const prefix = graph.input("prefix", "float64", [virtual, 1]);
          // One feature per token: its id as a float, so the joined sequence reads back.
          const sequence = decoderSequence("test", { ids, mask, prefix }, (x) =>
            unsqueeze(cast(x, "float64"), [2]),
          );
          const tokens = rows.flatMap((row, b) => row.map((_, t) => 10 * b + t + 1));
          const result = await evaluate(
            {
              embedded: sequence.embedded,
              extended: sequence.mask as Tensor,
              positions: sequence.positions,
              labels: causalLmLabels(ids, mask, virtual),
            },
            {
              ids: { data: BigInt64Array.from(tokens, BigInt), dims: [batch, steps] },
              mask: { data: Uint8Array.from(rows.flat(), Number), dims: [batch, steps] },
              prefix: { data: Float64Array.from({ length: virtual }, (_, v) => -1 - v), dims: [virtual, 1] },
            },
          );
          const want = {
            embedded: [] as number[],
            extended: [] as number[],
            positions: [] as number[],
            labels: [] as number[],
          };
          rows.forEach((row, b) => {
            for (let v = 0; v < virtual; v += 1) {
              want.embedded.push(-1 - v);
              want.extended.push(1);
              want.positions.push(v);
              want.labels.push(-100);
            }
            let seen = virtual;
            row.forEach((real, t) => {
              want.embedded.push(10 * b + t + 1);
              want.extended.push(real ? 1 : 0);
              want.positions.push(real ? seen : 0);
              want.labels.push(real ? 10 * b + t + 1 : -100);
              if (real) seen += 1;
            });
          });
          for (const key of ["embedded", "extended", "positions", "labels"] as const)
            expect([key, Array.from(result[key]?.data ?? [], Number)]).toEqual([key, want[key]]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("prefixLabels prepends -100 for every virtual token", async () => {
    const graph = new Graph();
    const labels = graph.input("labels", "int64", ["batch", "steps"]);
    const out = await evaluate(
      { padded: prefixLabels(labels, 2), same: prefixLabels(labels, 0) },
      { labels: { data: BigInt64Array.of(1n, 2n, 3n, 4n), dims: [2, 2] } },
    );
    expect(Array.from(out.padded?.data ?? [], Number)).toEqual([-100, -100, 1, 2, -100, -100, 3, 4]);
    expect(out.padded?.dims).toEqual([2, 4]);
    expect(Array.from(out.same?.data ?? [], Number)).toEqual([1, 2, 3, 4]);
  });

  it("refuses a prefix of the wrong shape or dtype, and bad labels arguments", async () => {
    const loaded = await fromPretrained(encoderFolder("bert-seq"), {
      architecture: encoderArchitecture("bert", { dtype: "float64" }),
    });
    const graph = new Graph();
    const params = bind(loaded.model.parameters, (path, parameter) =>
      graph.input(path, parameter.dtype, parameter.shape),
    );
    const ids = graph.input("ids", "int64", ["batch", "steps"]);
    const run = (prefix: Tensor) => () => loaded.model.forward(params, { ids, prefix }, { training: false });
    expect(run(graph.input("a", "float64", [3]))).toThrow(
      "TransformerEncoder.forward: prefix: expected a tensor [virtual, hidden] or [batch, virtual, hidden] with a fixed virtual >= 1, got float64[3]",
    );
    expect(run(graph.input("b", "float64", ["virtual", 8]))).toThrow(
      "TransformerEncoder.forward: prefix: expected a tensor [virtual, hidden] or [batch, virtual, hidden] with a fixed virtual >= 1, got float64[virtual,8]",
    );
    expect(run(graph.input("c", "float64", [2, 7]))).toThrow(
      "EncoderEmbeddings.forward: prefix: expected a float64 tensor with 8 features (the word embeddings'), got float64[2,7]",
    );
    expect(run(graph.input("d", "float32", [2, 8]))).toThrow(
      "EncoderEmbeddings.forward: prefix: expected a float64 tensor with 8 features (the word embeddings'), got float32[2,8]",
    );
    const gpt2 = new Gpt2LmHeadModel(gpt2Config(loadFixture("gpt2").config), { dtype: "float64" });
    const decoderParams = bind(gpt2.parameters, (path, parameter) =>
      graph.input(path, "float64", parameter.shape),
    );
    expect(() =>
      gpt2.forward(
        decoderParams,
        { ids, prefix: graph.input("e", "float64", [1, 2, 3, 12]) },
        { training: false },
      ),
    ).toThrow(
      "Gpt2Model.forward: prefix: expected a tensor [virtual, hidden] or [batch, virtual, hidden] with a fixed virtual >= 1, got float64[1,2,3,12]",
    );
    expect(() => causalLmLabels(ids, undefined, 1.5)).toThrow(
      "causalLmLabels: virtualTokens: expected an integer >= 0, got 1.5",
    );
    expect(() => prefixLabels(ids, -1)).toThrow(
      "prefixLabels: virtualTokens: expected an integer >= 0, got -1",
    );
    expect(() => prefixLabels(graph.input("f", "float64", [2, 2]), 1)).toThrow(
      "prefixLabels: labels: expected an int64 tensor [batch, steps], got float64 [2,2]",
    );
  });
});
