import { RuntimeError } from "./errors.js";

/** A learning-rate multiplier as a function of the optimizer step (0-based, before the update). */
export type Schedule = (step: number) => number;

function unitInterval(fn: string, argument: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RuntimeError(fn, argument, "a number in [0, 1]", String(value));
}

function nonNegativeInteger(fn: string, argument: string, value: number): void {
  if (!Number.isInteger(value) || value < 0)
    throw new RuntimeError(fn, argument, "a non-negative integer", String(value));
}

/** Always 1. */
export const constantSchedule = (): Schedule => () => 1;

/** Linear warmup from 0 to 1 over `warmup` steps, then linear decay to 0 at `total` (as Hugging Face's). */
export function linearWarmupDecay(warmup: number, total: number): Schedule {
  nonNegativeInteger("linearWarmupDecay", "warmup", warmup);
  if (!Number.isInteger(total) || total <= warmup)
    throw new RuntimeError("linearWarmupDecay", "total", `an integer > ${warmup}`, String(total));
  return (step) => (step < warmup ? step / warmup : Math.max(0, (total - step) / (total - warmup)));
}

/**
 * Linear warmup, then cosine decay from 1 to `minFactor` over the remaining steps, optionally in
 * `cycles` restarts (SGDR, Loshchilov & Hutter 2017): each cycle starts again at 1.
 */
export function cosineWithWarmup(
  warmup: number,
  total: number,
  options: { readonly cycles?: number; readonly minFactor?: number } = {},
): Schedule {
  nonNegativeInteger("cosineWithWarmup", "warmup", warmup);
  if (!Number.isInteger(total) || total <= warmup)
    throw new RuntimeError("cosineWithWarmup", "total", `an integer > ${warmup}`, String(total));
  const cycles = options.cycles ?? 1;
  if (!Number.isInteger(cycles) || cycles < 1)
    throw new RuntimeError("cosineWithWarmup", "cycles", "a positive integer", String(cycles));
  const floor = options.minFactor ?? 0;
  unitInterval("cosineWithWarmup", "minFactor", floor);
  const length = (total - warmup) / cycles;
  return (step) => {
    if (step < warmup) return step / warmup;
    if (step >= total) return floor;
    const progress = ((step - warmup) % length) / length;
    return floor + ((1 - floor) * (1 + Math.cos(Math.PI * progress))) / 2;
  };
}

/** Multiplies by `gamma` every `every` steps. */
export function stepDecay(every: number, gamma: number): Schedule {
  if (!Number.isInteger(every) || every < 1)
    throw new RuntimeError("stepDecay", "every", "a positive integer", String(every));
  if (!(gamma > 0 && gamma <= 1))
    throw new RuntimeError("stepDecay", "gamma", "a number in (0, 1]", String(gamma));
  return (step) => gamma ** Math.floor(step / every);
}

/**
 * Reduce on plateau: after `patience` evaluations without an improvement of the metric (by more
 * than `threshold`), multiply the factor by `gamma` (not below `minFactor`).
 */
export class ReduceOnPlateau {
  factor = 1;
  private best: number;
  private waited = 0;

  constructor(
    readonly mode: "min" | "max",
    readonly patience: number,
    readonly gamma = 0.1,
    readonly threshold = 0,
    readonly minFactor = 0,
  ) {
    if (mode !== "min" && mode !== "max")
      throw new RuntimeError("ReduceOnPlateau", "mode", '"min" or "max"', JSON.stringify(mode));
    nonNegativeInteger("ReduceOnPlateau", "patience", patience);
    if (!(gamma > 0 && gamma < 1))
      throw new RuntimeError("ReduceOnPlateau", "gamma", "a number in (0, 1)", String(gamma));
    if (!(Number.isFinite(threshold) && threshold >= 0))
      throw new RuntimeError("ReduceOnPlateau", "threshold", "a finite number >= 0", String(threshold));
    unitInterval("ReduceOnPlateau", "minFactor", minFactor);
    this.best = mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** Records one evaluation and returns the current factor. */
  observe(metric: number): number {
    const better =
      this.mode === "min" ? metric < this.best - this.threshold : metric > this.best + this.threshold;
    if (better) {
      this.best = metric;
      this.waited = 0;
    } else {
      this.waited += 1;
      if (this.waited > this.patience) {
        this.factor = Math.max(this.minFactor, this.factor * this.gamma);
        this.waited = 0;
      }
    }
    return this.factor;
  }

  /** The state to checkpoint. */
  get state(): { factor: number; best: number; waited: number } {
    return { factor: this.factor, best: this.best, waited: this.waited };
  }

  restore(state: { factor: number; best: number; waited: number }): void {
    this.factor = state.factor;
    this.best = state.best;
    this.waited = state.waited;
  }
}

/** The schedule's multipliers for steps `0 … steps-1`. */
export function sample(schedule: Schedule, steps: number): number[] {
  return Array.from({ length: steps }, (_, step) => schedule(step));
}
