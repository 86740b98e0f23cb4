import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { taggingBatch } from "@xlt/example-layerwise-lr";
import { encoderArchitecture, flatten, fromPretrained, HfEncoderModel, hfClassName } from "@xlt/nn";
import { nf4Layers } from "@xlt/peft";
import type { Batch, FloatArray } from "@xlt/runtime";
import { WordTokenizer } from "@xlt/tokenize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeText, evaluationBatches, heldOutPerplexity } from "./lm.js";
import { METHODS, type Method, plain, TASKS, type Task } from "./methods.js";
import { compileTask, type EncodedData, encodeData, type RunInspection, runJob } from "./run.js";
import { TINY_MAX_TOKENS, tinyCheckpoint, tinyData } from "./test-utils/fixture.js";

const out = mkdtempSync(join(tmpdir(), "peft-compare-run-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let checkpoint = "";
let encoded: EncodedData;
let heldOut: number[][] = [];

beforeAll(async () => {
  const data = await tinyData();
  checkpoint = await tinyCheckpoint(out);
  const tokenizer = WordTokenizer.fromFile(join(checkpoint, "tokenizer.json"));
  encoded = encodeData(tokenizer, data, TINY_MAX_TOKENS);
  heldOut = encodeText(tokenizer, data.lmHeldOut, TINY_MAX_TOKENS);
});

const options = { lmEpochs: 1, tagEpochs: 1, batchSize: 4, threads: 1 };

/** What each method may train (the tagger's classifier always trains). */
const TRAINS: Readonly<Record<Method, RegExp>> = {
  full: /./,
  lora: /\.lora_[AB]$|^head\.classifier\./,
  qlora: /\.lora_[AB]$|^head\.classifier\./,
  houlsby: /\.adapter_(down|up)\.|Norm\.(weight|bias)$|^head\.classifier\./,
  pfeiffer: /\.adapters\.adapter\.outputAdapter\.|^head\.classifier\./,
  bitfit: /\.bias$|^head\.classifier\./,
  prompt: /^prompt_encoder\.embedding\.weight$|^head\.classifier\./,
  embedding: /^encoder\.embeddings\.word\.weight$|^head\.classifier\./,
};

const same = (a: FloatArray | undefined, b: FloatArray | undefined) =>
  a !== undefined &&
  b !== undefined &&
  a.length === b.length &&
  a.every((value, index) => Object.is(value, b[index]));

function firstBatch(task: Task): Batch {
  return task === "lm"
    ? (encoded.lmEvaluation[0] as Batch)
    : taggingBatch(encoded.tagTest.slice(0, 4), encoded.special["[PAD]"]);
}

describe("runJob on a tiny pretrained encoder and real Faroese data", () => {
  for (const method of METHODS) {
    for (const task of TASKS) {
      it(`${method} on ${task}: trains its own set only; the session's frozen weights are the checkpoint's`, async () => {
        let inspection: RunInspection | undefined;
        let trained: FloatArray | undefined;
        const record = await runJob(
          { method, task, seed: 1 },
          {
            checkpoint,
            options,
            data: encoded,
            maxSteps: 3,
            inspect: async (seen) => {
              inspection = seen;
              const logits = (await seen.session.evalStep(firstBatch(task))).logits?.data;
              if (logits instanceof Float32Array || logits instanceof Float64Array) trained = logits;
            },
          },
        );
        if (!inspection || !trained) throw new Error("inspect was not called with logits");
        const { adapted, initial, final } = inspection;
        const { model } = adapted;
        const parameters = flatten(model.parameters);
        const trainable = parameters.filter(([, parameter]) => parameter.trainable).map(([path]) => path);
        const moved = parameters
          .filter(([path]) => !same(initial.get(path), final.get(path)))
          .map(([path]) => path);
        // Every trainable tensor moved in 3 steps, and nothing else.
        expect(moved.sort()).toEqual([...trainable].sort());
        for (const path of trainable) expect(path).toMatch(TRAINS[method]);
        if (method !== "full") expect(trainable.length).toBeLessThan(parameters.length);
        const size = (shape: readonly number[]) => shape.reduce((product, dim) => product * dim, 1);
        expect(record.trainable).toBe(
          parameters
            .filter(([, parameter]) => parameter.trainable)
            .reduce((sum, [, p]) => sum + size(p.shape), 0),
        );
        if (method === "qlora") {
          expect(nf4Layers(model).length).toBe(task === "lm" ? 2 * 6 + 1 : 2 * 6);
          expect(record.total).toBeGreaterThan(record.trainable);
        }
        // A new session from the trained values (frozen ones straight from the checkpoint) gives the
        // trained session's outputs bit for bit: the frozen initializers did not move inside ORT.
        const again = await compileTask(task, adapted, final, { lr: 0, seed: 1, threads: 1 });
        const replay = (await again.evalStep(firstBatch(task))).logits?.data;
        await again.release();
        expect(replay && [...replay]).toEqual([...trained]);
        const before = await compileTask(task, adapted, initial, { lr: 0, seed: 1, threads: 1 });
        const untrained = (await before.evalStep(firstBatch(task))).logits?.data;
        await before.release();
        expect(untrained && [...untrained]).not.toEqual([...trained]);
        expect(record).toMatchObject({ method, task, seed: 1, steps: 3 });
        expect(record.stepMs).toBeGreaterThan(0);
        if (task === "lm") {
          expect(record.score).toBeGreaterThan(1);
          expect(record.pseudoPerplexity).toBeGreaterThan(1);
          expect(record.tokens).toBeGreaterThan(10);
        } else {
          expect(record.score).toBeGreaterThanOrEqual(0);
          expect(record.score).toBeLessThanOrEqual(1);
          expect(record.tokens).toBe(
            encoded.tagTest.reduce((sum, sentence) => sum + sentence.gold.length, 0),
          );
          expect(record.pseudoPerplexity).toBeNull();
        }
      });
    }
  }

  it("none evaluates the checkpoint unchanged, with no steps", async () => {
    const record = await runJob(
      { method: "none", task: "lm", seed: 0 },
      { checkpoint, options, data: encoded },
    );
    expect(record).toMatchObject({
      steps: 0,
      trainable: 0,
      stepMs: null,
      stepMemoryMiB: null,
      pseudoPerplexity: expect.any(Number),
    });
  });
});

describe("compileTask", () => {
  it("needs a masked-LM head for lm and a token-classification head for upos", async () => {
    const config = {
      family: "distilbert" as const,
      head: "base" as const,
      vocabSize: 20,
      hidden: 8,
      layers: 1,
      heads: 2,
      intermediate: 16,
      maxPositions: 8,
    };
    const headless = plain(new HfEncoderModel(config, []), new Map());
    const settings = { lr: 0, seed: 0, threads: 1 };
    expect(() => compileTask("lm", headless, new Map(), settings)).toThrow(
      "lmLoss: model: expected a masked-LM head, got none",
    );
    await expect(compileTask("upos", headless, new Map(), settings)).rejects.toThrow(
      "compileTask: model: expected a token-classification head, got none",
    );
  });
});

describe("held-out perplexity on a real model", () => {
  it("does not depend on how the sentences are batched (padding is never counted)", async () => {
    const family = "bert";
    const loaded = await fromPretrained(checkpoint, {
      architecture: encoderArchitecture(family, { seed: 0 }),
      config: { architectures: [hfClassName(family, "masked-lm")] },
    });
    const session = await compileTask("lm", plain(loaded.model, loaded.values), loaded.values, {
      lr: 0,
      seed: 0,
      threads: 1,
    });
    const one = await heldOutPerplexity(
      session,
      evaluationBatches(heldOut, encoded.special, encoded.vocabSize, 1),
    );
    const five = await heldOutPerplexity(
      session,
      evaluationBatches(heldOut, encoded.special, encoded.vocabSize, 5),
    );
    await session.release();
    expect(five.tokens).toBe(one.tokens);
    expect(Math.abs(five.perplexity - one.perplexity) / one.perplexity).toBeLessThan(1e-5);
  });
});
