import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TaggedSentence } from "@xlt/data";
import { type LabelledSentence, SequenceTagger, type TaggerLearningRates } from "@xlt/heads";
import {
  type ExecutionProvider,
  loadCheckpoint,
  type StepSession,
  Trainer,
  writeFileAtomic,
} from "@xlt/runtime";
import { TransferError } from "./errors.js";
import { taskScore } from "./model.js";
import { type Progress, ReportingSession } from "./progress.js";

/**
 * NER early stopping and checkpoint choice follow dev entity F1 plus this times dev token accuracy:
 * F1 stays exactly 0 while a young model tags everything `O`, and without the tie-break patience
 * would stop such a run before it ever finds an entity. Below any F1 difference a dev set can show.
 */
export const NER_TIE_BREAK = 1e-4;

/** How every phase trains (the recipes differ only in data and starting point). */
export interface TrainingSettings {
  readonly epochs: number;
  readonly patience: number;
  readonly batchSize: number;
  readonly learningRates: TaggerLearningRates;
  readonly executionProvider: ExecutionProvider;
  readonly threads: number;
}

/** What a finished phase reports (`result.json` in its folder). */
export interface PhaseResult {
  /** Best dev score (the checkpoint kept). */
  readonly dev: number;
  readonly epochs: number;
  readonly steps: number;
  /** Training time in the process that finished the phase. */
  readonly seconds: number;
}

/** One training phase: a tagger (fresh or loaded), its training sentences, and where it checkpoints. */
export interface Phase {
  /** The phase's folder: `checkpoints/` while it trains, then `model/` and `result.json`. */
  readonly dir: string;
  readonly name: string;
  readonly tagger: SequenceTagger;
  readonly train: readonly LabelledSentence[];
  readonly dev: readonly TaggedSentence[];
  readonly task: "pos" | "ner";
  /** Seed of the initial parameters (fresh taggers) and of the batch order. */
  readonly seed: number;
  readonly settings: TrainingSettings;
}

/** A tagger's session with the app's settings (Adam, clipping at norm 5). */
export function compileTagger(tagger: SequenceTagger, settings: TrainingSettings, seed: number) {
  return tagger.compile({
    learningRates: settings.learningRates,
    clipNorm: 5,
    seed,
    executionProvider: settings.executionProvider,
    threads: settings.threads,
  });
}

/** The task score of `tagger` in `session` on `sentences`. */
export async function evaluateOn(
  tagger: SequenceTagger,
  session: StepSession,
  sentences: readonly TaggedSentence[],
  task: "pos" | "ner",
): Promise<{ score: number; labels: string[][] }> {
  const { labels } = await tagger.predict(session, sentences);
  return { score: taskScore(task, sentences, labels), labels };
}

function readResult(file: string): PhaseResult {
  const value: unknown = JSON.parse(readFileSync(file, "utf8"));
  const fields = ["dev", "epochs", "steps", "seconds"] as const;
  if (
    typeof value !== "object" ||
    value === null ||
    fields.some((field) => typeof (value as Record<string, unknown>)[field] !== "number")
  )
    throw new TransferError(
      "trainPhase",
      file,
      `a JSON object with numbers ${fields.join(", ")}`,
      "something else",
    );
  const record = value as Record<(typeof fields)[number], number>;
  return { dev: record.dev, epochs: record.epochs, steps: record.steps, seconds: record.seconds };
}

/**
 * Trains one phase with `@xlt/runtime`'s `Trainer`: early stopping on the dev score (mode max; NER
 * ties broken by token accuracy, see {@link NER_TIE_BREAK}), the
 * best-dev checkpoint kept, checkpoints every 20 steps and at each epoch's end, so a killed phase
 * resumes exactly. When it ends, the best checkpoint is saved as `model/` with `result.json`, and the
 * checkpoints are removed; a phase whose `result.json` exists is not trained again. Returns the best
 * model, loaded.
 */
export async function trainPhase(
  phase: Phase,
  progress: Progress,
): Promise<{ tagger: SequenceTagger; result: PhaseResult }> {
  const resultFile = join(phase.dir, "result.json");
  const modelDir = join(phase.dir, "model");
  if (existsSync(resultFile) && existsSync(join(modelDir, "config.json")))
    return { tagger: SequenceTagger.load(modelDir), result: readResult(resultFile) };
  if (phase.train.length === 0)
    throw new TransferError("trainPhase", "train", "at least one sentence", "none");
  mkdirSync(phase.dir, { recursive: true });
  const { settings, tagger } = phase;
  const checkpoints = join(phase.dir, "checkpoints");
  const session = await compileTagger(tagger, settings, phase.seed);
  const perEpoch = Math.ceil(phase.train.length / settings.batchSize);
  progress.phase(phase.name, settings.epochs * perEpoch);
  const began = performance.now();
  try {
    const trainer = new Trainer({
      session: new ReportingSession(session, progress),
      epochs: settings.epochs,
      seed: phase.seed,
      batches: (_, random) => tagger.batches(phase.train, settings.batchSize, random),
      evaluate: async (current, epoch) => {
        const { score, labels } = await evaluateOn(tagger, current, phase.dev, phase.task);
        progress.epoch(epoch, score);
        return phase.task === "ner" ? score + NER_TIE_BREAK * taskScore("pos", phase.dev, labels) : score;
      },
      mode: "max",
      patience: settings.patience,
      checkpointDir: checkpoints,
      checkpointEvery: 20,
    });
    const run = await trainer.run();
    const best = loadCheckpoint(checkpoints, "best.json");
    if (!best || run.bestMetric === null)
      throw new TransferError("trainPhase", checkpoints, "a best.json checkpoint", "none");
    await session.restore(best.tensors, best.trainer.step, best.shapes);
    await tagger.save(modelDir, session);
    const result: PhaseResult = {
      dev: (await evaluateOn(tagger, session, phase.dev, phase.task)).score,
      epochs: run.epochs,
      steps: run.steps,
      seconds: (performance.now() - began) / 1000,
    };
    writeFileAtomic(resultFile, `${JSON.stringify(result)}\n`);
    rmSync(checkpoints, { recursive: true, force: true });
  } finally {
    await session.release();
  }
  return { tagger: SequenceTagger.load(modelDir), result: readResult(resultFile) };
}
