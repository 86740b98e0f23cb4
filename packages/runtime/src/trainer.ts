import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Random } from "@xlt/nn";
import {
  checkpointName,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  type TrainerState,
} from "./checkpoint.js";
import { RuntimeError } from "./errors.js";
import type { Schedule } from "./schedules.js";
import type { Batch, StepSession } from "./session.js";

export interface TrainerOptions {
  readonly session: StepSession;
  /** An epoch's batches, in an order drawn from `random` (seeded; replayed exactly on resume). */
  readonly batches: (epoch: number, random: Random) => readonly Batch[];
  readonly epochs: number;
  /** Seed of the shuffling generator (default 0). */
  readonly seed?: number;
  /** Learning-rate multiplier per optimizer step (default constant 1). */
  readonly schedule?: Schedule;
  /** Called after every epoch; returns the metric early stopping and best checkpoints follow. */
  readonly evaluate?: (session: StepSession, epoch: number) => Promise<number>;
  /** Whether a lower (`"min"`, default) or higher metric is better. */
  readonly mode?: "min" | "max";
  /**
   * Stop after this many consecutive evaluations without improvement (Keras/Hugging Face semantics:
   * `0` stops at the first evaluation that does not improve).
   */
  readonly patience?: number;
  /** Where checkpoints go; an existing `latest.json` there is resumed from. */
  readonly checkpointDir?: string;
  /** Also checkpoint every this many steps (default: only at epoch ends). */
  readonly checkpointEvery?: number;
  /** JSONL log of every step and evaluation. */
  readonly logFile?: string;
  /**
   * A stream for progress (e.g. `process.stderr`): on a terminal (`isTTY`) one line rewritten in
   * place; otherwise (a log file, a pipe, CI) a full line every 10 s and at the end of each epoch.
   */
  readonly progress?: NodeJS.WritableStream;
}

export interface TrainerResult {
  readonly steps: number;
  readonly epochs: number;
  readonly bestMetric: number | null;
  readonly bestStep: number | null;
  /** Whether early stopping ended the run (this run or, when resumed, the saved one). */
  readonly stoppedEarly: boolean;
  /** Why early stopping ended the run, or `null`. */
  readonly stopReason: string | null;
  readonly resumedFrom: number | null;
}

/** How often a non-terminal progress stream gets a line. */
const PROGRESS_LINE_MS = 10_000;

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.round(seconds);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * Epochs over batches with a schedule, evaluation after each epoch, early stopping with patience,
 * best-checkpoint keeping, JSONL logs, a progress bar and checkpoints that resume exactly: parameters,
 * optimizer state, step, the epoch's shuffle state and the position inside the epoch are saved, so
 * a run killed mid-epoch and resumed ends with the same parameters as an uninterrupted one (dropout
 * masks are keyed by the step, see `ForwardContext.key`).
 */
export class Trainer {
  constructor(readonly options: TrainerOptions) {
    const fn = "Trainer";
    if (!(Number.isInteger(options.epochs) && options.epochs >= 1))
      throw new RuntimeError(fn, "epochs", "a positive integer", String(options.epochs));
    if (options.patience !== undefined && !(Number.isInteger(options.patience) && options.patience >= 0)) {
      throw new RuntimeError(fn, "patience", "a non-negative integer", String(options.patience));
    }
    if (
      options.checkpointEvery !== undefined &&
      !(Number.isInteger(options.checkpointEvery) && options.checkpointEvery >= 1)
    ) {
      throw new RuntimeError(fn, "checkpointEvery", "a positive integer", String(options.checkpointEvery));
    }
    if ((options.patience !== undefined || options.mode !== undefined) && !options.evaluate) {
      throw new RuntimeError(fn, "evaluate", "an evaluation callback when patience or mode is set", "none");
    }
  }

  private log(entry: Record<string, unknown>): void {
    if (this.options.logFile) appendFileSync(this.options.logFile, `${JSON.stringify(entry)}\n`);
  }

  private async save(state: TrainerState, pointer?: string): Promise<void> {
    const directory = this.options.checkpointDir;
    if (!directory) return;
    const { tensors, shapes } = await this.options.session.snapshot();
    const name = `step-${String(state.step).padStart(8, "0")}`;
    saveCheckpoint(directory, name, { tensors, shapes, trainer: state }, pointer);
    const best = checkpointName(directory, "best.json");
    pruneCheckpoints(directory, [name, ...(best ? [best] : [])]);
  }

  async run(): Promise<TrainerResult> {
    const { session, batches, epochs, schedule, evaluate, checkpointDir, checkpointEvery, progress } =
      this.options;
    const mode = this.options.mode ?? "min";
    let state: TrainerState = {
      epoch: 0,
      batchInEpoch: 0,
      step: 0,
      epochRandomState: new Random(this.options.seed ?? 0).snapshot,
      bestMetric: null,
      bestStep: null,
      sinceBest: 0,
    };
    if (checkpointDir) mkdirSync(checkpointDir, { recursive: true });
    if (this.options.logFile) mkdirSync(dirname(this.options.logFile), { recursive: true });
    let resumedFrom: number | null = null;
    const saved = checkpointDir ? loadCheckpoint(checkpointDir) : null;
    if (saved) {
      await session.restore(saved.tensors, saved.trainer.step, saved.shapes);
      state = saved.trainer;
      resumedFrom = state.step;
      this.log({ type: "resume", step: state.step, epoch: state.epoch, batch: state.batchInEpoch });
    }
    let stoppedEarly = state.stopped === true;
    const started = Date.now();
    const interactive = progress !== undefined && "isTTY" in progress && progress.isTTY === true;
    let lastLine = started;
    let stepsThisRun = 0;
    while (state.epoch < epochs && !stoppedEarly) {
      const random = Random.fromState(state.epochRandomState);
      const list = batches(state.epoch, random);
      const nextEpochRandom = random.snapshot;
      for (let index = state.batchInEpoch; index < list.length; index += 1) {
        const scale = schedule ? schedule(session.step) : 1;
        const result = await session.trainStep(list[index] as Batch, scale);
        stepsThisRun += 1;
        state = { ...state, step: session.step, batchInEpoch: index + 1 };
        this.log({
          type: "step",
          epoch: state.epoch,
          step: state.step,
          loss: result.loss,
          gradNorm: result.gradNorm,
          lrScale: scale,
        });
        if (progress) {
          const now = Date.now();
          const rate = stepsThisRun / Math.max(1e-3, (now - started) / 1000);
          const left = list.length - index - 1 + (epochs - state.epoch - 1) * list.length;
          const line = `epoch ${state.epoch + 1}/${epochs} batch ${index + 1}/${list.length} loss ${result.loss.toFixed(4)} ${rate.toFixed(1)} steps/s ETA ${formatSeconds(left / rate)}`;
          // A terminal gets one line rewritten in place; a log file or pipe a full line at most
          // every PROGRESS_LINE_MS and at each epoch's last batch.
          if (interactive) progress.write(`\r${line}`);
          else if (now - lastLine >= PROGRESS_LINE_MS || index === list.length - 1) {
            progress.write(`${line}\n`);
            lastLine = now;
          }
        }
        if (checkpointEvery && state.step % checkpointEvery === 0) await this.save(state);
      }
      if (evaluate) {
        const metric = await evaluate(session, state.epoch);
        const better =
          state.bestMetric === null ||
          (mode === "min" ? metric < state.bestMetric : metric > state.bestMetric);
        state = better
          ? { ...state, bestMetric: metric, bestStep: state.step, sinceBest: 0 }
          : { ...state, sinceBest: state.sinceBest + 1 };
        this.log({ type: "eval", epoch: state.epoch, step: state.step, metric, best: state.bestMetric });
        if (better) await this.save(state, "best.json");
        const patience = this.options.patience;
        if (!better && patience !== undefined && state.sinceBest >= patience) {
          stoppedEarly = true;
          state = {
            ...state,
            stopped: true,
            stopReason: `no improvement in ${state.sinceBest} evaluations (patience ${patience})`,
          };
          this.log({ type: "stop", epoch: state.epoch, step: state.step, reason: state.stopReason });
        }
      }
      state = { ...state, epoch: state.epoch + 1, batchInEpoch: 0, epochRandomState: nextEpochRandom };
      await this.save(state);
    }
    if (progress && interactive) progress.write("\n");
    return {
      steps: state.step,
      epochs: state.epoch,
      bestMetric: state.bestMetric,
      bestStep: state.bestStep,
      stoppedEarly,
      stopReason: state.stopReason ?? null,
      resumedFrom,
    };
  }
}
