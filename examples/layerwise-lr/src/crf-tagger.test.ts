import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluate, Graph } from "@xlt/graph";
import { CrfHead } from "@xlt/heads";
import { flatten, HfEncoderModel, Linear, Random } from "@xlt/nn";
import { assignGroups } from "@xlt/runtime";
import { WordTokenizer } from "@xlt/tokenize";
import { afterAll, describe, expect, it } from "vitest";
import { conditionGroups } from "./conditions.js";
import { classifierDropout, compileCrfTagger, crfAccuracy, crfTaggerParameters } from "./crf-tagger.js";
import { loadStudyData } from "./data.js";
import { fineTune, loadTagger } from "./finetune.js";
import { parseOptions, type StudyOptions } from "./options.js";
import { headOf, readRecords } from "./plan.js";
import { ensurePretrained } from "./pretrain.js";
import { settings } from "./study.js";
import {
  type EncodedSentence,
  encodeTagged,
  firstSubwords,
  scorePaths,
  wordBatch,
  wordFeatures,
} from "./tagging.js";

const out = mkdtempSync(join(tmpdir(), "layerwise-crf-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Sentence 0: [CLS] a a b [SEP]; sentence 1: [CLS] c [SEP] (padded). */
const sentences: EncodedSentence[] = [
  { ids: [1, 10, 11, 12, 2], wordIds: [null, 0, 0, 1, null], labels: [-100, 2, -100, 0, -100], gold: [2, 0] },
  // Truncated: its third word was cut off.
  { ids: [1, 13, 2], wordIds: [null, 0, null], labels: [-100, 1, -100], gold: [1, 2, 0] },
];

describe("word-level batches for the CRF head", () => {
  it("index each word's first subword in the flattened tokens, with gold tags and a word mask", () => {
    const batch = wordBatch(sentences, 0);
    expect(batch.ids?.dims).toEqual([2, 5]);
    expect(batch.first?.dims).toEqual([2, 2]);
    // Row 1's tokens start at 5; its padding word points at its first token.
    expect(Array.from(batch.first?.data ?? [], Number)).toEqual([1, 3, 6, 5]);
    expect(Array.from(batch.tags?.data ?? [], Number)).toEqual([2, 0, 1, 0]);
    expect(Array.from(batch.words?.data ?? [], Number)).toEqual([1, 1, 1, 0]);
    expect(batch.labels).toBeUndefined();
  });

  it("wordFeatures gathers the hidden state at each word's first subword (hand computation)", async () => {
    const graph = new Graph();
    const hidden = graph.input("hidden", "float32", ["batch", "steps", 3]);
    const first = graph.input("first", "int64", ["batch", "words"]);
    const features = wordFeatures(hidden, first, 3);
    // hidden[b, t, h] = 100 b + 10 t + h
    const values = Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => {
      const b = Math.floor(i / 15);
      const t = Math.floor((i % 15) / 3);
      return 100 * b + 10 * t + (i % 3);
    });
    const batch = wordBatch(sentences, 0);
    const result = await evaluate(
      { features },
      { hidden: { data: values, dims: [2, 5, 3] }, first: batch.first as NonNullable<typeof batch.first> },
    );
    expect(result.features?.dims).toEqual([2, 2, 3]);
    // Words at (0, 1), (0, 3), (1, 1) and the padding word at (1, 0).
    expect(Array.from(result.features?.data ?? [], Number)).toEqual([
      10, 11, 12, 30, 31, 32, 110, 111, 112, 100, 101, 102,
    ]);
  });

  it("scorePaths counts the kept words' decoded tags and the cut-off words as wrong", () => {
    expect(scorePaths(sentences, [[2, 1], [1]])).toEqual({ correct: 2, total: 5 });
    expect(() =>
      scorePaths(sentences, [
        [2, 1],
        [1, 2],
      ]),
    ).toThrow("scorePaths: paths[1]: expected 1 tags (the sentence's kept words), got 2 tags");
    expect(() => scorePaths(sentences, [[2, 1]])).toThrow(
      "scorePaths: paths[1]: expected 1 tags (the sentence's kept words), got none",
    );
  });

  it("crfAccuracy needs float32 scores from evalStep", async () => {
    const head = new CrfHead({ inputSize: 4, labels: ["A", "B", "C"] });
    const session = {
      evalStep: async () => ({}),
      snapshot: () => ({ tensors: new Map(), shapes: new Map() }),
    };
    await expect(crfAccuracy(session, head, sentences, 0)).rejects.toThrow(
      "crfAccuracy: session: expected float32 scores from evalStep, got none",
    );
  });
});

describe("the CRF head in the layer-wise learning rates", () => {
  it("puts every CRF head parameter in the top (classifier) group, no encoder parameter", () => {
    const model = new HfEncoderModel(
      {
        family: "bert",
        head: "token-classification",
        labels: 3,
        vocabSize: 50,
        hidden: 8,
        layers: 2,
        heads: 2,
        intermediate: 16,
        maxPositions: 16,
        typeVocabSize: 2,
      },
      [],
    );
    const head = new CrfHead({ inputSize: 8, labels: ["A", "B", "C"] });
    const groups = conditionGroups("discriminative", model.layerGroups(), {
      lr: 1e-3,
      factor: 0.5,
      blocks: 2,
    });
    const assigned = assignGroups(flatten(crfTaggerParameters(model, head)), groups);
    const top = groups.at(-1);
    expect(top?.name).toBe("head");
    expect(top?.lr).toBe(1e-3);
    const inTop = [...assigned].filter(([, group]) => group.name === "head").map(([path]) => path);
    expect(inTop.sort()).toEqual([
      "head.crf.end",
      "head.crf.start",
      "head.crf.transitions",
      "head.emission.bias",
      "head.emission.weight",
    ]);
    expect(assigned.get("encoder.layers.layer1.attention.query.weight")?.name).toBe("block1");
    expect(assigned.get("encoder.embeddings.word.weight")?.lr).toBeCloseTo(1e-3 * 0.5 ** 3, 12);
  });
});

describe("the CRF head's dropout", () => {
  it("is the dropout the model's token-classification head applies (same rate, seed and masks)", async () => {
    const model = new HfEncoderModel(
      {
        family: "bert",
        head: "token-classification",
        labels: 3,
        vocabSize: 50,
        hidden: 8,
        layers: 1,
        heads: 2,
        intermediate: 16,
        maxPositions: 16,
        typeVocabSize: 2,
        hiddenDropout: 0.5,
      },
      [],
      { seed: 5 },
    );
    const dropout = classifierDropout(model, 5);
    expect(dropout.rate).toBe(0.5);
    const graph = new Graph();
    const hidden = graph.input("hidden", "float32", [2, 4, 8]);
    const key = graph.input("key", "int64", []);
    const random = new Random(7);
    const weights = Float32Array.from({ length: 24 }, () => random.next() - 0.5);
    const params = {
      classifier: { weight: graph.constant(weights, [8, 3]), bias: graph.constant(new Float32Array(3), [3]) },
    };
    const train = { training: true, key };
    const head = model.modules.head;
    if (!head) throw new Error("a token-classification model has a head");
    const theirs = head.forward(params, { hidden, wordEmbeddings: hidden }, train);
    const ours = new Linear(8, 3).forward(params.classifier, dropout.forward({}, hidden, train));
    const plain = new Linear(8, 3).forward(params.classifier, hidden);
    const result = await evaluate(
      { theirs, ours, plain },
      {
        hidden: { data: Float32Array.from({ length: 64 }, () => random.next() + 0.5), dims: [2, 4, 8] },
        key: { data: BigInt64Array.of(3n), dims: [] },
      },
    );
    const values = (name: string) => Array.from(result[name]?.data ?? [], Number);
    expect(values("ours")).toEqual(values("theirs"));
    expect(values("ours")).not.toEqual(values("plain"));
  });
});

describe("records and settings name the head", () => {
  it("only CRF records and settings carry a head, and readRecords checks it", () => {
    const options = parseOptions(["--head", "crf"], out);
    expect(settings(options, "ckpt")).toMatchObject({ checkpoint: "ckpt", head: "crf" });
    expect("head" in settings(parseOptions([], out), "ckpt")).toBe(false);
    const path = join(out, "records.jsonl");
    const record = {
      condition: "baseline",
      seed: 1,
      language: "fo",
      role: "target",
      score: 0.5,
      steps: 2,
      seconds: 1,
    };
    writeFileSync(path, `${JSON.stringify(record)}\n${JSON.stringify({ ...record, head: "crf" })}\n`);
    expect(readRecords(path).map(headOf)).toEqual(["softmax", "crf"]);
    writeFileSync(path, `${JSON.stringify({ ...record, head: "lstm" })}\n`);
    expect(() => readRecords(path)).toThrow(
      `readRecords: ${path}:1.head: expected "crf" or none (softmax), got "lstm"`,
    );
  });
});

/** A tiny encoder (2 layers, hidden 16) pretrained for 4 steps, as the study test's. */
const tiny: StudyOptions = {
  ...parseOptions(
    [
      "--pretrain-steps",
      "4",
      "--epochs",
      "1",
      "--blocks",
      "2",
      "--batch-size",
      "8",
      "--threads",
      "1",
      "--head",
      "crf",
    ],
    out,
  ),
  pretrainBatch: 8,
  maxTokens: 24,
  shape: { vocab: 300, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 24 },
};

describe("fine-tuning with --head crf", () => {
  it("trains a CRF tagger on real data (the loss falls), decodes by Viterbi and records the head", async () => {
    const data = await loadStudyData();
    const text = new Map([...data.text].map(([language, lines]) => [language, lines.slice(0, 60)]));
    const checkpoint = await ensurePretrained(tiny, text, () => {});
    const tokenizer = WordTokenizer.fromFile(join(checkpoint, "tokenizer.json"));
    const padId = tokenizer.padTokenId ?? 0;
    const train = encodeTagged(tokenizer, data.train.slice(0, 16), data.tags, tiny.maxTokens);

    // Repeated steps on one batch: the CRF's negative log-likelihood falls.
    const loaded = await loadTagger(checkpoint, data.tags, 1);
    const head = new CrfHead({ inputSize: loaded.model.config.hidden, labels: data.tags });
    const session = await compileCrfTagger(loaded.model, head, {
      optimizer: { kind: "adamw" },
      groups: conditionGroups("discriminative", loaded.model.layerGroups(), {
        lr: 1e-2,
        factor: 0.7,
        blocks: 2,
      }),
      clipNorm: 1,
      seed: 1,
      values: new Map([...loaded.values].filter(([path]) => path.startsWith("encoder."))),
      threads: 1,
    });
    try {
      const batch = wordBatch(train.slice(0, 8), padId);
      const before = await crfAccuracy(session, head, train.slice(0, 8), padId);
      const losses: number[] = [];
      for (let step = 0; step < 12; step += 1) losses.push((await session.trainStep(batch)).loss);
      const words = train.slice(0, 8).reduce((sum, sentence) => sum + firstSubwords(sentence).length, 0);
      // At the start about log(17) nats per kept word (uniform scores); the batch is then largely fitted.
      expect((losses[0] as number) / (words / 8)).toBeGreaterThan(2);
      expect(losses.at(-1) as number).toBeLessThan(0.6 * (losses[0] as number));
      const after = await crfAccuracy(session, head, train.slice(0, 8), padId);
      expect(after).toBeGreaterThan(before);
    } finally {
      await session.release();
    }

    // One run of the study with the CRF head: records carry the head, scores are accuracies.
    const evaluations = data.evaluations.map((evaluation) => ({
      language: evaluation.language,
      role: evaluation.role,
      sentences: encodeTagged(tokenizer, evaluation.sentences.slice(0, 8), data.tags, tiny.maxTokens),
    }));
    const records = await fineTune(
      { condition: "discriminative", seed: 1 },
      checkpoint,
      tiny,
      train,
      evaluations,
      data.tags,
      padId,
    );
    expect(records.map((record) => [record.language, record.head, record.steps])).toEqual([
      ["da", "crf", 2],
      ["fo", "crf", 2],
      ["is", "crf", 2],
    ]);
    for (const record of records) {
      expect(record.score).toBeGreaterThanOrEqual(0);
      expect(record.score).toBeLessThanOrEqual(1);
    }
  }, 600_000);
});
