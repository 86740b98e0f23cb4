import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadCorpus } from "@xlt/data";
import { compile, cosineWithWarmup, loadCheckpoint, type StepSession, Trainer } from "@xlt/runtime";
import {
  baselineAccuracy,
  batches,
  buildVocabulary,
  datasetAccuracy,
  type Examples,
  encode,
  INPUTS,
  WindowTagger,
} from "./tagger.js";

const CORPUS = "ud/mt_mudt";
const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "10" },
    "batch-size": { type: "string", default: "128" },
    lr: { type: "string", default: "0.01" },
    seed: { type: "string", default: "1" },
    patience: { type: "string", default: "3" },
    fresh: { type: "boolean", default: false },
  },
});
const epochs = Number(values.epochs);
const batchSize = Number(values["batch-size"]);
const seed = Number(values.seed);
const runDirectory = fileURLToPath(new URL(`../runs/seed-${seed}`, import.meta.url));
if (values.fresh) rmSync(runDirectory, { recursive: true, force: true });

const [train, dev, test] = await Promise.all([
  loadCorpus(CORPUS, "train"),
  loadCorpus(CORPUS, "dev"),
  loadCorpus(CORPUS, "test"),
]);
const vocabulary = buildVocabulary(train);
const [trainSet, devSet, testSet] = [train, dev, test].map((sentences) => encode(vocabulary, sentences)) as [
  Examples,
  Examples,
  Examples,
];
console.log(
  `mlp-tagger: window MLP POS tagger on ${CORPUS}: train ${trainSet.count} tokens, dev ${devSet.count}, test ${testSet.count}; ${vocabulary.tags.length} tags, ${vocabulary.words.size} words`,
);

const model = new WindowTagger(vocabulary);
const session = await compile(model, model.loss, {
  inputs: INPUTS,
  optimizer: { kind: "adamw" },
  groups: [{ name: "all", match: /./, lr: Number(values.lr), weightDecay: 0.01 }],
  clipNorm: 5,
  seed,
});

const accuracy = (current: StepSession, examples: Examples) =>
  datasetAccuracy(current, examples, vocabulary.tags.length);

const stepsPerEpoch = Math.ceil(trainSet.count / batchSize);
const trainer = new Trainer({
  session,
  epochs,
  seed,
  schedule: cosineWithWarmup(Math.ceil(stepsPerEpoch / 4), epochs * stepsPerEpoch),
  batches: (_epoch, random) =>
    batches(trainSet, random.shuffle(Array.from({ length: trainSet.count }, (_, i) => i)), batchSize),
  evaluate: async (current, epoch) => {
    const metric = await accuracy(current, devSet);
    process.stderr.write(`\nepoch ${epoch + 1}: dev accuracy ${(100 * metric).toFixed(2)}%\n`);
    return metric;
  },
  mode: "max",
  patience: Number(values.patience),
  checkpointDir: runDirectory,
  checkpointEvery: 50,
  logFile: join(runDirectory, "log.jsonl"),
  progress: process.stderr,
});
const began = performance.now();
const result = await trainer.run();
if (result.resumedFrom !== null) console.log(`resumed from step ${result.resumedFrom}`);
const best = loadCheckpoint(runDirectory, "best.json");
if (best) session.restore(best.tensors, best.trainer.step);
const testAccuracy = await accuracy(session, testSet);
const baseline = baselineAccuracy(train, test);
console.log(
  `trained ${result.steps} steps in ${((performance.now() - began) / 1000).toFixed(1)} s (this run); best dev ${(100 * (result.bestMetric ?? 0)).toFixed(2)}% at step ${result.bestStep}${result.stoppedEarly ? " (stopped early)" : ""}`,
);
console.log(
  `test accuracy (best dev checkpoint): MLP ${(100 * testAccuracy).toFixed(2)}% vs most-frequent-tag baseline ${(100 * baseline).toFixed(2)}%`,
);
console.log(`checkpoints and log: ${runDirectory} (run again to resume; --fresh to start over)`);
await session.release();
