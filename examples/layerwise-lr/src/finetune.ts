import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { crossEntropy, type Tensor } from "@xlt/graph";
import { CrfHead } from "@xlt/heads";
import { type EncoderFamily, encoderArchitecture, fromPretrained, hfClassName } from "@xlt/nn";
import { compile, type StepSession, Trainer } from "@xlt/runtime";
import { type Condition, conditionGroups, conditionSchedule } from "./conditions.js";
import { compileCrfTagger, crfAccuracy } from "./crf-tagger.js";
import { StudyError } from "./errors.js";
import type { StudyOptions } from "./options.js";
import type { PlannedRun, RunRecord } from "./plan.js";
import { type EncodedSentence, scoreBatch, taggingBatch, taggingBatches, wordBatches } from "./tagging.js";

const FAMILIES: readonly EncoderFamily[] = ["bert", "roberta", "xlm-roberta", "distilbert"];

/** An encoded evaluation set. */
export interface EncodedEvaluation {
  readonly language: string;
  readonly role: "source" | "target";
  readonly sentences: readonly EncodedSentence[];
}

/** Word accuracy of a session on encoded sentences, in batches of 32. */
export async function accuracy(
  session: Pick<StepSession, "evalStep">,
  sentences: readonly EncodedSentence[],
  padId: number,
): Promise<number> {
  let correct = 0;
  let total = 0;
  for (let start = 0; start < sentences.length; start += 32) {
    const chunk = sentences.slice(start, start + 32);
    const { logits } = await session.evalStep(taggingBatch(chunk, padId));
    if (!(logits?.data instanceof Float32Array))
      throw new StudyError(
        "accuracy",
        "session",
        "float32 logits from evalStep",
        logits ? logits.data.constructor.name : "none",
      );
    const scored = scoreBatch(chunk, { data: logits.data, dims: logits.dims });
    correct += scored.correct;
    total += scored.total;
  }
  return total === 0 ? 0 : correct / total;
}

/** The encoder family of a checkpoint directory (`config.json`'s `model_type`). */
export function familyOf(directory: string): EncoderFamily {
  const config: unknown = JSON.parse(readFileSync(join(directory, "config.json"), "utf8"));
  const type =
    typeof config === "object" && config !== null && "model_type" in config ? config.model_type : undefined;
  const family = FAMILIES.find((candidate) => candidate === type);
  if (!family)
    throw new StudyError(
      "familyOf",
      join(directory, "config.json"),
      `model_type ${FAMILIES.join(", ")}`,
      JSON.stringify(type),
    );
  return family;
}

/**
 * Loads the encoder of `checkpoint` (any local BERT/RoBERTa/XLM-R/DistilBERT checkpoint) with a new
 * token-classification head for `tags`, initialised (with dropout's seeds) from `seed`.
 */
export async function loadTagger(checkpoint: string, tags: readonly string[], seed: number) {
  const family = familyOf(checkpoint);
  const architecture = encoderArchitecture(family, { seed });
  return fromPretrained(checkpoint, {
    architecture,
    config: {
      architectures: [hfClassName(family, "token-classification")],
      num_labels: tags.length,
      id2label: Object.fromEntries(tags.map((tag, index) => [String(index), tag])),
      label2id: Object.fromEntries(tags.map((tag, index) => [tag, index])),
    },
    allowMissing: [/^classifier\./],
    // Other heads' weights: BERT's MLM (cls.*) and pooler, RoBERTa's lm_head, DistilBERT's vocab_*.
    allowUnexpected: [/^cls\./, /pooler\./, /^lm_head\./, /^vocab_/],
    seed,
  });
}

/**
 * Fine-tunes the encoder of `checkpoint` with a new tagging head for one run of the study, then
 * scores every evaluation set. The head (`options.head`) is the model's token-classification head on
 * each word's first subword (`softmax`), or a {@link CrfHead} over the words' first-subword states
 * decoded by Viterbi (`crf`, see {@link compileCrfTagger}); either sits in the top group of the
 * layer-wise learning rates. The head is initialised from the run's seed, which also seeds dropout and
 * the shuffling; the groups and schedule follow the condition. An interrupted run resumes from
 * `<out>/runs/<condition>-seed<seed>` (`…-crf` with the CRF head).
 */
export async function fineTune(
  run: PlannedRun,
  checkpoint: string,
  options: StudyOptions,
  train: readonly EncodedSentence[],
  evaluations: readonly EncodedEvaluation[],
  tags: readonly string[],
  padId: number,
): Promise<RunRecord[]> {
  const started = performance.now();
  const loaded = await loadTagger(checkpoint, tags, run.seed);
  const model = loaded.model;
  const condition: Condition = run.condition;
  const groups = conditionGroups(condition, model.layerGroups(), options);
  const threads = options.threads !== undefined ? { threads: options.threads } : {};
  const crf = options.head === "crf" ? new CrfHead({ inputSize: model.config.hidden, labels: tags }) : null;
  const session = crf
    ? await compileCrfTagger(model, crf, {
        optimizer: { kind: "adamw" },
        groups,
        clipNorm: 1,
        seed: run.seed,
        // The encoder's weights; the CRF head starts from the run's seed.
        values: new Map([...loaded.values].filter(([path]) => path.startsWith("encoder."))),
        ...threads,
      })
    : await compile(
        model,
        (params, { ids, mask, labels }, context) => {
          const { logits } = model.forward(params, { ids, mask }, context); // shape: [batch, steps, tags]
          return {
            loss: crossEntropy(logits as Tensor, labels, -100),
            outputs: { logits: logits as Tensor },
          };
        },
        {
          inputs: {
            ids: { dtype: "int64", shape: ["batch", "steps"] },
            mask: { dtype: "bool", shape: ["batch", "steps"] },
            labels: { dtype: "int64", shape: ["batch", "steps"] },
          },
          optimizer: { kind: "adamw" },
          groups,
          clipNorm: 1,
          seed: run.seed,
          values: loaded.values,
          ...threads,
        },
      );
  const stepsPerEpoch = Math.ceil(train.length / options.batchSize);
  const runDirectory = join(
    options.out,
    "runs",
    `${condition.replace("+", "-")}-seed${run.seed}${crf ? "-crf" : ""}`,
  );
  const batching = crf ? wordBatches : taggingBatches;
  const trainer = new Trainer({
    session,
    epochs: options.epochs,
    seed: run.seed,
    schedule: conditionSchedule(condition, stepsPerEpoch * options.epochs),
    batches: (_epoch, random) =>
      batching(
        train,
        random.shuffle(Array.from({ length: train.length }, (_, i) => i)),
        options.batchSize,
        padId,
      ),
    checkpointDir: runDirectory,
    progress: process.stderr,
  });
  const result = await trainer.run();
  const records: RunRecord[] = [];
  for (const evaluation of evaluations) {
    const score = crf
      ? await crfAccuracy(session, crf, evaluation.sentences, padId)
      : await accuracy(session, evaluation.sentences, padId);
    records.push({
      condition,
      seed: run.seed,
      language: evaluation.language,
      role: evaluation.role,
      score,
      steps: result.steps,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      ...(crf ? { head: "crf" as const } : {}),
    });
  }
  await session.release();
  rmSync(runDirectory, { recursive: true, force: true });
  return records;
}
