import { evaluate, Graph } from "@xlt/graph";
import { bind, flatten, Linear } from "@xlt/nn";
import { compile } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import { applyLora } from "./lora.js";
import { LoraLinear } from "./lora-linear.js";
import type { AnyModule } from "./modules.js";
import { applyBitFit, applyEmbeddingOnly } from "./selective.js";
import { runModel, TinyTagger, taggerBatch, taggerLoss, valuesWithB } from "./test-utils/models.js";
import { trainableParameters } from "./trainable.js";

const classes = 3;
const vocab = 11;
const dim = 8;
const base = new TinyTagger(vocab, dim, classes);

const trainable = (model: AnyModule) =>
  flatten(model.parameters)
    .filter(([, p]) => p.trainable)
    .map(([path]) => path);

/** Trains 3 AdamW steps; checks that exactly the trainable set moved and the session's frozen weights are the given ones. */
async function trainOnly(model: TinyTagger) {
  const values = valuesWithB(model.parameters, 11);
  const session = await compile(model, taggerLoss(model, classes), {
    inputs: {
      ids: { dtype: "int64", shape: ["batch", "steps"] },
      labels: { dtype: "int64", shape: ["batch", "steps"] },
    },
    optimizer: { kind: "adamw" },
    groups: [{ name: "all", match: /./, lr: 0.05 }],
    values,
  });
  const batch = taggerBatch(2, 4, vocab, classes);
  const losses: number[] = [];
  for (let step = 0; step < 3; step += 1) losses.push((await session.trainStep(batch)).loss);
  const moved: string[] = [];
  for (const [path, parameter] of flatten(model.parameters)) {
    const before = values.get(path) as Float64Array;
    const after = session.parameters.get(path) as Float64Array;
    const same = Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(
      Buffer.from(before.buffer, before.byteOffset, before.byteLength),
    );
    if (!same) moved.push(path);
    if (!parameter.trainable) expect(same).toBe(true);
  }
  // The frozen weights inside the session (initializers) are the given values: its evaluation equals
  // a fresh graph fed with the session's parameters.
  const evaluation = await session.evalStep(batch);
  const fresh = await runModel(model, session.parameters, { name: "ids", dtype: "int64", value: batch.ids });
  const logits = evaluation.logits?.data ?? [];
  let worst = 0;
  for (let i = 0; i < logits.length; i += 1)
    worst = Math.max(worst, Math.abs(Number(logits[i]) - Number(fresh.output.data[i])));
  expect(worst).toBeLessThan(1e-12);
  await session.release();
  return { moved, losses };
}

describe("every method trains only its trainable set (compile, AdamW, float64)", () => {
  it("LoRA with a saved classifier head and lora_only biases", async () => {
    const model = applyLora(base, {
      targetModules: ["query", "value"],
      r: 2,
      alpha: 4,
      bias: "lora_only",
      modulesToSave: ["classifier"],
    });
    const { moved, losses } = await trainOnly(model);
    expect(moved.sort()).toEqual(trainable(model).sort());
    expect(losses[2]).toBeLessThan(losses[0] as number);
  });

  it("BitFit: every bias; and only query/value biases", async () => {
    const all = applyBitFit(base);
    expect(trainable(all)).toEqual([
      "attention.query.bias",
      "attention.key.bias",
      "attention.value.bias",
      "attention.output.bias",
      "norm.bias",
      "classifier.bias",
    ]);
    const { moved } = await trainOnly(all);
    expect(moved.sort()).toEqual(trainable(all).sort());
    const qv = applyBitFit(base, { modules: ["query", "value"], modulesToSave: ["classifier"] });
    expect(trainable(qv)).toEqual([
      "attention.query.bias",
      "attention.value.bias",
      "classifier.weight",
      "classifier.bias",
    ]);
    expect((await trainOnly(qv)).moved.sort()).toEqual(trainable(qv).sort());
  });

  it("embedding-only: only the input embedding table moves", async () => {
    const model = applyEmbeddingOnly(base);
    expect(trainable(model)).toEqual(["embed.weight"]);
    const { moved } = await trainOnly(model);
    expect(moved).toEqual(["embed.weight"]);
  });
});

describe("composing methods (keepTrainable)", () => {
  it("embedding-only, then LoRA and BitFit on top: the trainable sets add up", () => {
    const embeddings = applyEmbeddingOnly(base);
    const both = applyLora(embeddings, { targetModules: ["query"], r: 2 }, { keepTrainable: true });
    expect(trainable(both)).toEqual(["embed.weight", "attention.query.lora_A", "attention.query.lora_B"]);
    const three = applyBitFit(both, { modules: ["value"], keepTrainable: true });
    expect(trainable(three)).toEqual([
      "embed.weight",
      "attention.query.lora_A",
      "attention.query.lora_B",
      "attention.value.bias",
    ]);
    // Without keepTrainable the last method's set is all that trains.
    expect(trainable(applyLora(embeddings, { targetModules: ["query"], r: 2 }))).toEqual([
      "attention.query.lora_A",
      "attention.query.lora_B",
    ]);
    expect(trainable(applyEmbeddingOnly(both, { keepTrainable: true }))).toEqual(trainable(both));
  });
});

describe("trainableParameters", () => {
  const total = vocab * dim + 4 * (dim * dim + dim) + 2 * dim + dim * classes + classes;
  it("counts and share per method", () => {
    const full = trainableParameters(base);
    expect(full).toEqual({
      trainable: total,
      total,
      share: 1,
      quantized: 0,
      byKind: { lora: 0, adapter: 0, bias: 4 * dim + dim + classes, other: total - (5 * dim + classes) },
    });
    const lora = trainableParameters(applyLora(base, { targetModules: ["query", "value"], r: 2 }));
    expect(lora.trainable).toBe(2 * (dim * 2 + 2 * dim));
    expect(lora.total).toBe(total + lora.trainable);
    expect(lora.share).toBeCloseTo(lora.trainable / lora.total, 15);
    expect(lora.byKind).toEqual({ lora: 64, adapter: 0, bias: 0, other: 0 });
    expect(trainableParameters(applyBitFit(base)).trainable).toBe(5 * dim + classes);
    expect(trainableParameters(applyEmbeddingOnly(base)).byKind).toEqual({
      lora: 0,
      adapter: 0,
      bias: 0,
      other: vocab * dim,
    });
  });
});

describe("LoRA dropout", () => {
  it("is keyed by the step: same key, same output; another key, another mask; none in evaluation", async () => {
    const layer = new LoraLinear(new Linear(16, 4, { dtype: "float64" }), {
      rank: 2,
      alpha: 2,
      dropout: 0.5,
      dropoutSeed: 9,
    });
    const values = valuesWithB(layer.parameters, 1);
    const run = async (key: bigint | null) => {
      const graph = new Graph();
      const params = bind(layer.parameters, (path, p) => graph.input(path, p.dtype, p.shape));
      const x = graph.input("x", "float64", [1, 16]);
      const context =
        key === null ? { training: false } : { training: true, key: graph.input("key", "int64", []) };
      const feeds: Record<string, { data: Float64Array | BigInt64Array; dims: number[] }> = {
        x: { data: Float64Array.from({ length: 16 }, (_, i) => 1 + i / 16), dims: [1, 16] },
      };
      for (const [path, p] of flatten(layer.parameters))
        feeds[path] = { data: values.get(path) as Float64Array, dims: [...p.shape] };
      if (key !== null) feeds.key = { data: BigInt64Array.of(key), dims: [] };
      const { y } = await evaluate({ y: layer.forward(params, x, context) }, feeds);
      return [...(y?.data ?? [])].map(Number);
    };
    const [a, b, c, plain] = [await run(1n), await run(1n), await run(2n), await run(null)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(plain);
  });
});

describe("selective method errors", () => {
  it("BitFit without matching biases, embedding-only without an Embedding", () => {
    expect(() => applyBitFit(base, { modules: ["nothing"] })).toThrowError(
      new PeftError("applyBitFit", "modules", "modules with a bias", '["nothing"]'),
    );
    expect(() => applyEmbeddingOnly(base, { modules: "classifier" })).toThrowError(
      'applyEmbeddingOnly: modules: expected a pattern matching at least one Embedding, got "classifier"',
    );
  });
});
