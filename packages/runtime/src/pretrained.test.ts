import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crossEntropy, type TensorValue } from "@xlt/graph";
import {
  BERT,
  type CausalLm,
  causalLmLabels,
  causalLmLoss,
  fromPretrained,
  GPT2,
  type HfArchitecture,
  type HfModel,
  initialize,
  LLAMA,
  type LoadedCheckpoint,
  readSafetensors,
  savePretrained,
} from "@xlt/nn";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "./compile.js";
import { layerwiseGroups } from "./groups.js";
import type { Batch } from "./session.js";

// @xlt/nn's tests cannot import @xlt/runtime (runtime depends on nn), so the round trip of a
// Hugging Face checkpoint through a real training session lives here: write a tiny checkpoint in
// the HF layout, load it, train it with `compile`, save it, reload it, and check that nothing
// changed on the way back (names, shapes, dtypes, values, logits).

const scratch = mkdtempSync(join(tmpdir(), "xlt-runtime-hf-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const int64 = { dtype: "int64", shape: ["batch", "steps"] } as const;

/** Every tensor of a checkpoint directory's `model.safetensors`: dtype, shape and raw bytes by key. */
function tensorsOf(directory: string) {
  const file = readSafetensors(readFileSync(join(directory, "model.safetensors")));
  return new Map([...file.tensors].map(([key, tensor]) => [key, tensor]));
}

function bits(values: ReadonlyMap<string, Float32Array | Float64Array>): Map<string, number[]> {
  return new Map([...values].map(([name, data]) => [name, Array.from(data)]));
}

async function roundTrip<M extends HfModel>(
  name: string,
  architecture: HfArchitecture<M>,
  config: Record<string, unknown>,
  session: (loaded: LoadedCheckpoint<M>) => ReturnType<typeof compile>,
  batch: Batch,
) {
  const source = join(scratch, name);
  const fresh = architecture.fromConfig(config);
  await savePretrained(source, {
    architecture,
    model: fresh,
    values: initialize(fresh.parameters, 7),
    config,
  });

  const loaded = await fromPretrained(source, { architecture });
  const training = await session(loaded);
  const before = (await training.evalStep(batch)).loss;
  const losses: number[] = [];
  for (let step = 0; step < 12; step += 1) losses.push((await training.trainStep(batch)).loss);
  const after = (await training.evalStep(batch)).loss;
  const trained = new Map(training.parameters);
  const logits = (await training.evalStep(batch)).logits;
  await training.release();

  const target = join(scratch, `${name}-trained`);
  await savePretrained(target, { ...loaded, values: trained });
  const reloaded = await fromPretrained(target, { architecture });
  const again = await session(reloaded);
  const reloadedLogits = (await again.evalStep(batch)).logits;
  await again.release();
  return { source, target, loaded, reloaded, trained, before, after, losses, logits, reloadedLogits };
}

function scalar(value: TensorValue | undefined): number {
  const first = value?.data[0];
  if (typeof first === "number") return first;
  throw new Error(`expected a float tensor, got ${typeof first}`);
}

function floats(value: TensorValue | undefined): number[] {
  if (value?.data instanceof Float32Array) return Array.from(value.data);
  throw new Error("expected a float32 tensor");
}

describe("Hugging Face checkpoints through compile: load, train, save, reload", () => {
  it("BERT token classifier with layer-wise learning rates: the loss falls, the saved checkpoint has the source's names, shapes and dtypes, and reloads to the trained values and logits", async () => {
    const config = {
      model_type: "bert",
      architectures: ["BertForTokenClassification"],
      vocab_size: 60,
      hidden_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 16,
      id2label: { 0: "O", 1: "B-LOC", 2: "I-LOC" },
    };
    const batch: Batch = {
      ids: { data: BigInt64Array.of(2n, 17n, 42n, 3n, 2n, 56n, 3n, 0n), dims: [2, 4] },
      mask: { data: BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n), dims: [2, 4] },
      labels: { data: BigInt64Array.of(-100n, 1n, 2n, -100n, -100n, 1n, -100n, -100n), dims: [2, 4] },
    };
    const run = await roundTrip(
      "bert",
      BERT,
      config,
      ({ model, values }) =>
        compile(
          model,
          (params, { ids, mask, labels }, context) => {
            const { logits } = model.forward(params, { ids, mask }, context);
            if (logits === undefined) throw new Error("a token-classification model has logits");
            return { loss: crossEntropy(logits, labels, -100), outputs: { logits } };
          },
          {
            inputs: { ids: int64, mask: int64, labels: int64 },
            optimizer: { kind: "adamw" },
            groups: layerwiseGroups(model.layerGroups(), { lr: 1e-2, factor: 0.7, weightDecay: 0.01 }),
            values,
          },
        ),
      batch,
    );
    expect(scalar(run.after)).toBeLessThan(0.5 * scalar(run.before));
    // Saved with exactly the source's keys, dtypes and shapes; the trained values changed.
    const source = tensorsOf(run.source);
    const target = tensorsOf(run.target);
    expect([...target.keys()].sort()).toEqual([...source.keys()].sort());
    for (const [key, tensor] of source) {
      const saved = target.get(key);
      expect(saved?.dtype, key).toBe(tensor.dtype);
      expect(saved?.shape, key).toEqual(tensor.shape);
    }
    expect(JSON.parse(readFileSync(join(run.target, "config.json"), "utf8"))).toEqual(
      JSON.parse(readFileSync(join(run.source, "config.json"), "utf8")),
    );
    expect(bits(run.reloaded.values)).not.toEqual(bits(run.loaded.values));
    expect(bits(run.reloaded.values)).toEqual(bits(run.trained));
    expect(floats(run.reloadedLogits)).toEqual(floats(run.logits));
  });

  const decoders: [string, HfArchitecture<CausalLm & HfModel>, Record<string, unknown>][] = [
    [
      "gpt2",
      GPT2,
      { model_type: "gpt2", vocab_size: 50, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 16 },
    ],
    [
      "llama",
      LLAMA,
      {
        model_type: "llama",
        vocab_size: 50,
        hidden_size: 16,
        intermediate_size: 24,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        max_position_embeddings: 16,
        tie_word_embeddings: false,
      },
    ],
  ];
  for (const [name, architecture, config] of decoders) {
    it(`${name} causal LM: the loss falls with training, and the checkpoint reloads to the trained values and logits`, async () => {
      const batch: Batch = {
        ids: { data: BigInt64Array.of(5n, 9n, 14n, 9n, 5n, 21n, 30n, 9n, 14n, 0n), dims: [2, 5] },
        mask: { data: BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 0n), dims: [2, 5] },
      };
      const run = await roundTrip(
        name,
        architecture,
        config,
        ({ model, values }) =>
          compile(
            model,
            (params, { ids, mask }, context) => {
              const { logits } = model.forward(params, { ids, mask }, context);
              const { loss, nll, count } = causalLmLoss(logits, causalLmLabels(ids, mask));
              return { loss, outputs: { logits, nll, count } };
            },
            {
              inputs: { ids: int64, mask: int64 },
              optimizer: { kind: "adamw" },
              groups: [{ name: "all", match: /./, lr: 1e-2 }],
              values,
            },
          ),
        batch,
      );
      expect(scalar(run.after)).toBeLessThan(0.5 * scalar(run.before));
      expect([...tensorsOf(run.target).keys()].sort()).toEqual([...tensorsOf(run.source).keys()].sort());
      expect(bits(run.reloaded.values)).toEqual(bits(run.trained));
      expect(floats(run.reloadedLogits)).toEqual(floats(run.logits));
    });
  }
});
