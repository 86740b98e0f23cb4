import type { FloatArray } from "@xlt/heads";
import type { Batch, Snapshot, StepResult, StepSession } from "@xlt/runtime";
import cliProgress from "cli-progress";

/** What the experiment reports while it runs. */
export interface Progress {
  /** A run starts (`done` runs of `total` are finished). */
  run(label: string, done: number, total: number): void;
  /** A training phase of the current run starts: `steps` optimizer steps at most. */
  phase(name: string, steps: number): void;
  /** One optimizer step of the current phase. */
  step(loss: number): void;
  /** An epoch of the current phase ended with this dev score. */
  epoch(epoch: number, dev: number): void;
  /** A line of text above the bars. */
  log(line: string): void;
  stop(): void;
}

/** Progress bars on a terminal (cli-progress): one for the runs, one for the current phase's steps. */
export class BarProgress implements Progress {
  private readonly bars: cliProgress.MultiBar;
  private readonly runs: cliProgress.SingleBar;
  private readonly steps: cliProgress.SingleBar;
  private stepCount = 0;

  constructor(stream: NodeJS.WriteStream) {
    this.bars = new cliProgress.MultiBar(
      {
        stream,
        format: "{label} [{bar}] {value}/{total} {detail}",
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.runs = this.bars.create(
      1,
      0,
      { label: "runs".padEnd(34) },
      { format: "{label} [{bar}] {value}/{total} runs, ETA {eta_formatted}" },
    );
    this.steps = this.bars.create(1, 0, { label: "".padEnd(34), detail: "" });
  }

  run(label: string, done: number, total: number): void {
    this.runs.setTotal(total);
    this.runs.update(done, {
      label: `runs: ${label}`.slice(0, 34).padEnd(34),
      detail: "ETA {eta_formatted}",
    });
  }

  phase(name: string, steps: number): void {
    this.stepCount = 0;
    this.steps.setTotal(Math.max(1, steps));
    this.steps.update(0, { label: `  ${name}`.slice(0, 34).padEnd(34), detail: "" });
  }

  step(loss: number): void {
    this.stepCount += 1;
    this.steps.update(this.stepCount, { detail: `loss ${loss.toFixed(3)}` });
  }

  epoch(epoch: number, dev: number): void {
    this.steps.update(this.stepCount, { detail: `epoch ${epoch + 1} dev ${(100 * dev).toFixed(2)}` });
  }

  log(line: string): void {
    this.bars.log(`${line}\n`);
  }

  stop(): void {
    this.bars.stop();
  }
}

/** Plain progress lines (stdout is not a terminal, e.g. CI): one per run, phase and epoch. */
export class LineProgress implements Progress {
  private label = "";
  private phaseName = "";
  private steps = 0;

  constructor(private readonly write: (line: string) => void) {}

  run(label: string, done: number, total: number): void {
    this.label = label;
    this.write(`[${done + 1}/${total}] ${label}`);
  }

  phase(name: string, steps: number): void {
    this.phaseName = name;
    this.steps = 0;
    this.write(`  ${this.label} ${name}: up to ${steps} steps`);
  }

  step(): void {
    this.steps += 1;
  }

  epoch(epoch: number, dev: number): void {
    this.write(
      `  ${this.label} ${this.phaseName}: epoch ${epoch + 1}, ${this.steps} steps, dev ${(100 * dev).toFixed(2)}`,
    );
  }

  log(line: string): void {
    this.write(line);
  }

  stop(): void {}
}

/** Nothing reported (tests). */
export const SILENT: Progress = {
  run() {},
  phase() {},
  step() {},
  epoch() {},
  log() {},
  stop() {},
};

/** A `StepSession` that reports each training step to `progress` and otherwise passes through. */
export class ReportingSession implements StepSession {
  constructor(
    private readonly inner: StepSession,
    private readonly progress: Progress,
  ) {}

  get step(): number {
    return this.inner.step;
  }

  async trainStep(batch: Batch | readonly Batch[], lrScale?: number): Promise<StepResult> {
    const result = await this.inner.trainStep(batch, lrScale);
    this.progress.step(result.loss);
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
