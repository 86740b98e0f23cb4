import { readFileSync, writeFileSync } from "node:fs";
import type { Batch, FloatArray, Snapshot, StepResult, StepSession } from "@xlt/runtime";
import { CompareError } from "./errors.js";

/** Resident set and its peak since the last reset, in MiB (Linux `/proc/self/status`), or `null` elsewhere. */
export function residentSet(): { rss: number; peak: number } | null {
  let status: string;
  try {
    status = readFileSync("/proc/self/status", "utf8");
  } catch {
    return null;
  }
  const read = (key: string) =>
    Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024;
  const rss = read("VmRSS");
  const peak = read("VmHWM");
  return Number.isFinite(rss) && Number.isFinite(peak) ? { rss, peak } : null;
}

/** Resets the peak resident set to the current one (writing 5 to `/proc/self/clear_refs`); false where that is not possible. */
export function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Measures what training steps add to the process's resident set: `start()` resets the peak and
 * notes the resident set (the model, its sessions and optimizer state already built), `stop()`
 * gives the peak since then minus that, in MiB: activations kept for the backward pass, gradients,
 * the outputs copied back each step, ORT's arena growth. `null` where `/proc` is not available.
 */
export class PeakGrowth {
  private base: number | null = null;

  start(): void {
    this.base = resetPeak() ? (residentSet()?.rss ?? null) : null;
  }

  stop(): number | null {
    const now = residentSet();
    if (this.base === null || now === null) return null;
    return Math.max(0, now.peak - this.base);
  }
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new CompareError("median", "values", "at least one value", "none");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A step session that times every training step (wall clock of `trainStep`, in seconds). */
export class TimedSession implements StepSession {
  readonly stepSeconds: number[] = [];

  constructor(private readonly inner: StepSession) {}

  get step(): number {
    return this.inner.step;
  }

  async trainStep(batch: Batch | readonly Batch[], lrScale?: number): Promise<StepResult> {
    const started = performance.now();
    const result = await this.inner.trainStep(batch, lrScale);
    this.stepSeconds.push((performance.now() - started) / 1000);
    return result;
  }

  evalStep(batch: Batch): ReturnType<StepSession["evalStep"]> {
    return this.inner.evalStep(batch);
  }

  snapshot(): Snapshot | Promise<Snapshot> {
    return this.inner.snapshot();
  }

  restore(
    tensors: ReadonlyMap<string, FloatArray>,
    step: number,
    shapes?: ReadonlyMap<string, readonly number[]>,
  ): void | Promise<void> {
    return this.inner.restore(tensors, step, shapes);
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}
