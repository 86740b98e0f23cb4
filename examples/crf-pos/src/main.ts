import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadCorpus } from "@xlt/data";
import { MostFrequentTag } from "./baseline.js";
import { FEATURES_PER_TOKEN } from "./features.js";
import { accuracy, createFeatureCrf, encodeSentence, predict, tagSet } from "./model.js";
import { saveModel } from "./model-io.js";
import { ProgressBar } from "./progress.js";
import { train } from "./train.js";

const CORPUS = "ud/mt_mudt";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "8" },
    "batch-size": { type: "string", default: "32" },
    "learning-rate": { type: "string", default: "0.05" },
    l2: { type: "string", default: "1e-5" },
    bits: { type: "string", default: "18" },
    seed: { type: "string", default: "42" },
    out: { type: "string" },
  },
});
const options = {
  epochs: Number(values.epochs),
  batchSize: Number(values["batch-size"]),
  learningRate: Number(values["learning-rate"]),
  l2: Number(values.l2),
  bits: Number(values.bits),
  seed: Number(values.seed),
};
const began = performance.now();
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;

const trainSet = await loadCorpus(CORPUS, "train");
const devSet = await loadCorpus(CORPUS, "dev");
const testSet = await loadCorpus(CORPUS, "test");
const model = createFeatureCrf(tagSet(trainSet), options.bits);
const encode = (sentences: typeof trainSet) => sentences.map((sentence) => encodeSentence(model, sentence));
const trainEncoded = encode(trainSet);
const devEncoded = encode(devSet);
const testEncoded = encode(testSet);
const tokens = (sentences: typeof trainSet) => sentences.reduce((sum, s) => sum + s.words.length, 0);

console.log(`crf-pos: a feature CRF part-of-speech tagger on Maltese UD (${CORPUS}), trained with @xlt/crf`);
console.log(
  `data: train ${trainSet.length} sentences (${tokens(trainSet)} tokens), dev ${devSet.length} (${tokens(devSet)}), ` +
    `test ${testSet.length} (${tokens(testSet)}); ${model.tags.length} tags`,
);
console.log(
  `model: ${FEATURES_PER_TOKEN} feature templates hashed into 2^${options.bits} buckets; ` +
    `Adam lr ${options.learningRate}, L2 ${options.l2}, batch ${options.batchSize}, ${options.epochs} epoch${options.epochs === 1 ? "" : "s"}, seed ${options.seed}`,
);

const bar = new ProgressBar(process.stderr);
let epochBegan = performance.now();
const result = train(model, trainEncoded, devEncoded, {
  ...options,
  onStep: (epoch, step, steps, meanLoss) =>
    bar.update(`epoch ${epoch}/${options.epochs}`, step, steps, `loss ${meanLoss.toFixed(4)}`),
  onEpoch: (report) => {
    bar.clear();
    console.log(
      `epoch ${String(report.epoch).padStart(2)}  loss ${report.loss.toFixed(4)}  ` +
        `dev accuracy ${percent(report.devAccuracy ?? 0)}  (${seconds(epochBegan)})`,
    );
    epochBegan = performance.now();
  },
});

const baseline = new MostFrequentTag(trainSet);
const testAccuracy = accuracy(predict(model, testEncoded), testEncoded);
const devAccuracy = result.history[result.bestEpoch - 1]?.devAccuracy ?? 0;
const baselineAccuracy = baseline.accuracy(testSet);
console.log(`kept epoch ${result.bestEpoch} (best dev accuracy ${percent(devAccuracy)})`);
console.log(
  `test accuracy: CRF ${percent(testAccuracy)}, most-frequent-tag baseline ${percent(baselineAccuracy)}`,
);

const here = fileURLToPath(new URL(".", import.meta.url));
const directory = values.out ?? join(here, "..", "runs", `seed-${options.seed}`);
await saveModel(model, directory, {
  corpus: CORPUS,
  ...options,
  bestEpoch: result.bestEpoch,
  devAccuracy,
  testAccuracy,
  baselineTestAccuracy: baselineAccuracy,
  history: result.history,
});
console.log(`saved ${join(relative(process.cwd(), directory), "model.json")} and weights.safetensors`);
console.log(`done in ${seconds(began)}`);
