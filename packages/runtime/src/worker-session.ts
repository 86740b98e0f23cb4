import { Worker } from "node:worker_threads";
import type { TensorValue } from "@xlt/graph";
import { type CompileOptions, type Model, portable, prepare } from "./compile.js";
import { RuntimeError } from "./errors.js";
import type { Batch, PortableModel, Snapshot, StepResult, StepSession } from "./session.js";
import type { WorkerInit } from "./step-worker.js";
import type { FloatArray, LossFunction } from "./train-graph.js";

type Request =
  | { readonly kind: "trainStep"; readonly batch: Batch | readonly Batch[]; readonly lrScale: number }
  | { readonly kind: "evalStep"; readonly batch: Batch }
  | { readonly kind: "snapshot" }
  | {
      readonly kind: "restore";
      readonly tensors: ReadonlyMap<string, FloatArray>;
      readonly step: number;
      readonly shapes: ReadonlyMap<string, readonly number[]> | undefined;
    }
  | { readonly kind: "release" };

/** @internal A request to the step worker. */
export type WorkerRequest = { readonly id: number } & Request;

/** @internal The worker's answer: a value, or the fields of the error it threw. */
export type WorkerReply =
  | { readonly id: number; readonly value: unknown }
  | {
      readonly id: number;
      readonly error: { readonly name: string; readonly message: string; readonly [field: string]: unknown };
    };

function revive(error: {
  readonly name: string;
  readonly message: string;
  readonly [field: string]: unknown;
}): Error {
  const { fn, argument, expected, got } = error;
  if (
    error.name === "RuntimeError" &&
    [fn, argument, expected, got].every((field) => typeof field === "string")
  ) {
    return new RuntimeError(String(fn), String(argument), String(expected), String(got));
  }
  return new Error(error.message);
}

/**
 * A `TrainingSession` running in a worker thread: `session.run` blocks the worker, so the main
 * thread stays free for progress bars, logs or a server. Same steps, same numbers.
 */
export class WorkerSession implements StepSession {
  step = 0;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if ("error" in reply) waiting.reject(revive(reply.error));
      else waiting.resolve(reply.value);
    });
    worker.on("error", (error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
  }

  /** @internal Starts the worker and waits until its sessions exist. */
  static async start(init: WorkerInit): Promise<WorkerSession> {
    const worker = new Worker(new URL("./step-worker.js", import.meta.url), { workerData: init });
    const session = new WorkerSession(worker);
    await new Promise<unknown>((resolve, reject) => {
      session.pending.set(-1, { resolve, reject });
      worker.once("exit", (code) =>
        reject(new RuntimeError("compileInWorker", "worker", "a running worker", `exit code ${code}`)),
      );
    });
    return session;
  }

  private call(request: Request): Promise<unknown> {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  async trainStep(batch: Batch | readonly Batch[], lrScale = 1): Promise<StepResult> {
    const result = (await this.call({ kind: "trainStep", batch, lrScale })) as StepResult;
    this.step += 1;
    return result;
  }

  async evalStep(batch: Batch): Promise<Record<string, TensorValue>> {
    return (await this.call({ kind: "evalStep", batch })) as Record<string, TensorValue>;
  }

  async snapshot(): Promise<Snapshot> {
    return (await this.call({ kind: "snapshot" })) as Snapshot;
  }

  async restore(
    tensors: ReadonlyMap<string, FloatArray>,
    step: number,
    shapes?: ReadonlyMap<string, readonly number[]>,
  ): Promise<void> {
    await this.call({ kind: "restore", tensors, step, shapes });
    this.step = step;
  }

  async release(): Promise<void> {
    await this.call({ kind: "release" });
    await this.worker.terminate();
  }
}

/** `compile`, with the sessions, parameters and optimizer state in a worker thread. */
export async function compileInWorker<K extends string>(
  model: Model,
  loss: LossFunction<K>,
  options: CompileOptions<K>,
): Promise<WorkerSession> {
  const prepared = prepare(model, loss, options);
  const models: Record<"train" | "evaluate" | "gradient" | "apply", PortableModel> = {
    train: portable(prepared.train),
    evaluate: portable(prepared.evaluate),
    gradient: portable(prepared.gradient()),
    apply: portable(prepared.apply()),
  };
  const config = {
    ...(options.executionProvider ? { executionProvider: options.executionProvider } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  };
  return WorkerSession.start({ parts: prepared.parts, models, config });
}
