import { fromOrtTensor, type TensorValue, toOrtTensor } from "@xlt/graph";
import type * as ort from "onnxruntime-node";
import { RuntimeError } from "./errors.js";
import { createSession, type SessionConfig } from "./providers.js";
import { type FloatArray, type InputSpec, names } from "./train-graph.js";

/** One training step's results. */
export interface StepResult {
  readonly loss: number;
  /** The global gradient L2 norm before clipping. */
  readonly gradNorm: number;
}

/** A batch: tensors by input name. */
export type Batch = Readonly<Record<string, TensorValue>>;

/** A session with the set of input names its model declares. */
export interface Step {
  readonly session: ort.InferenceSession;
  readonly inputs: ReadonlySet<string>;
}

/** Feeds only what a model declares (ORT refuses unknown feeds; unused inputs are pruned). */
function only(feeds: Record<string, ort.Tensor>, step: Step): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).filter(([name]) => step.inputs.has(name)));
}

function floats(fn: string, name: string, results: ort.InferenceSession.ReturnType): FloatArray {
  const data = fromOrtTensor(results[name] as ort.Tensor).data;
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  throw new RuntimeError(fn, name, "a float output", data.constructor.name);
}

/** Everything a session needs besides its ORT sessions; plain data, so it can cross to a worker. */
export interface PortableParts {
  readonly parameters: Map<string, FloatArray>;
  readonly state: Map<string, FloatArray>;
  readonly trainable: readonly { readonly path: string }[];
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly inputs: Readonly<Record<string, InputSpec>>;
  readonly groups: readonly { readonly name: string; readonly lr: number; readonly weightDecay?: number }[];
  readonly stateNames: readonly [name: string, path: string][];
  readonly evalOutputs: readonly string[];
}

/** A serialised model with the input names it declares. */
export interface PortableModel {
  readonly bytes: Uint8Array;
  readonly externalData: readonly { readonly path: string; readonly data: Uint8Array }[];
  readonly inputs: readonly string[];
}

/** @internal */
export async function stepOf(model: PortableModel, config: SessionConfig): Promise<Step> {
  return { session: await createSession(model, config), inputs: new Set(model.inputs) };
}

/** @internal What a `TrainingSession` is built from. */
export interface SessionParts extends PortableParts {
  readonly train: Step;
  readonly evaluate: Step;
  /** Builds the gradient and apply sessions of gradient accumulation on first use. */
  readonly accumulation: () => Promise<{ gradient: Step; apply: Step }>;
}

/** Parameters and optimizer state with their shapes, as checkpoints store them. */
export interface Snapshot {
  readonly tensors: Map<string, FloatArray>;
  readonly shapes: Map<string, readonly number[]>;
}

/** What the Trainer drives: a `TrainingSession`, or a `WorkerSession` that runs one in a worker thread. */
export interface StepSession {
  /** Optimizer steps taken so far. */
  readonly step: number;
  trainStep(batch: Batch | readonly Batch[], lrScale?: number): Promise<StepResult>;
  evalStep(batch: Batch): Promise<Record<string, TensorValue>>;
  snapshot(): Snapshot | Promise<Snapshot>;
  restore(
    tensors: ReadonlyMap<string, FloatArray>,
    step: number,
    shapes?: ReadonlyMap<string, readonly number[]>,
  ): void | Promise<void>;
  release(): Promise<void>;
}

/** The compiled training and evaluation steps of a model, with its parameters and optimizer state. */
export class TrainingSession implements StepSession {
  /** Optimizer steps taken so far. */
  step = 0;
  readonly parameters: Map<string, FloatArray>;
  readonly state: Map<string, FloatArray>;
  readonly evalOutputs: readonly string[];
  private accumulation: Promise<{ gradient: Step; apply: Step }> | null = null;

  constructor(private readonly parts: SessionParts) {
    this.parameters = parts.parameters;
    this.state = parts.state;
    this.evalOutputs = parts.evalOutputs;
  }

  private tensor(path: string, data: FloatArray): ort.Tensor {
    return toOrtTensor(data instanceof Float32Array ? "float32" : "float64", {
      data,
      dims: this.parts.shapes.get(path) ?? [],
    });
  }

  /** Checks `batch` against the declared inputs (names, rank, fixed dimensions) and builds the feeds. */
  private feed(batch: Batch, fn: string): Record<string, ort.Tensor> {
    const declared = Object.keys(this.parts.inputs);
    for (const name of Object.keys(batch)) {
      if (!Object.hasOwn(this.parts.inputs, name))
        throw new RuntimeError(
          fn,
          `batch.${name}`,
          `one of the declared inputs (${declared.join(", ")})`,
          "an undeclared input",
        );
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, spec] of Object.entries(this.parts.inputs)) {
      const value = batch[name];
      if (!value) throw new RuntimeError(fn, `batch.${name}`, `a ${spec.dtype} tensor`, "nothing");
      const shape = `[${spec.shape.join(", ")}]`;
      if (value.dims.length !== spec.shape.length)
        throw new RuntimeError(
          fn,
          `batch.${name}.dims`,
          `rank ${spec.shape.length} (${shape})`,
          `[${value.dims.join(", ")}]`,
        );
      for (const [axis, size] of spec.shape.entries()) {
        if (typeof size === "number" && value.dims[axis] !== size)
          throw new RuntimeError(
            fn,
            `batch.${name}.dims[${axis}]`,
            `${size} (${shape})`,
            String(value.dims[axis]),
          );
      }
      feeds[name] = toOrtTensor(spec.dtype, value);
    }
    for (const { path } of this.parts.trainable)
      feeds[path] = this.tensor(path, this.parameters.get(path) as FloatArray);
    return feeds;
  }

  /** The dropout key of micro-batch `index` of the coming step: a function of the step alone. */
  private key(index: number): ort.Tensor {
    return toOrtTensor("int64", {
      data: BigInt64Array.of(BigInt(this.step + 1) * 1024n + BigInt(index)),
      dims: [],
    });
  }

  /** Feeds of the update: optimizer state, step, learning rates and weight decays. */
  private updateFeeds(feeds: Record<string, ort.Tensor>, lrScale: number): void {
    for (const [name, path] of this.parts.stateNames)
      feeds[name] = this.tensor(path, this.state.get(name) as FloatArray);
    const scalar = (value: number) => toOrtTensor("float64", { data: Float64Array.of(value), dims: [] });
    feeds[names.step] = scalar(this.step + 1);
    for (const group of this.parts.groups) {
      feeds[names.lr(group.name)] = scalar(group.lr * lrScale);
      feeds[names.decay(group.name)] = scalar(group.weightDecay ?? 0);
    }
  }

  private takeUpdate(results: ort.InferenceSession.ReturnType): number {
    for (const { path } of this.parts.trainable)
      this.parameters.set(path, floats("trainStep", names.next(path), results));
    for (const [name] of this.parts.stateNames)
      this.state.set(name, floats("trainStep", names.next(name), results));
    this.step += 1;
    return Number(floats("trainStep", "grad_norm", results)[0]);
  }

  /**
   * One optimizer step: forward, backward, clipping and update in one `session.run`. Given several
   * micro-batches, their gradients are averaged (each micro-batch's mean loss weighs the same, as
   * dividing each loss by their number in torch) before one update. `lrScale` multiplies every
   * group's learning rate (the schedule's value for this step).
   */
  async trainStep(batch: Batch | readonly Batch[], lrScale = 1): Promise<StepResult> {
    if (!(Number.isFinite(lrScale) && lrScale >= 0)) {
      throw new RuntimeError("trainStep", "lrScale", "a finite number >= 0", String(lrScale));
    }
    const micro = Array.isArray(batch) ? batch : [batch];
    if (micro.length === 0) throw new RuntimeError("trainStep", "batch", "at least one micro-batch", "none");
    if (micro.length > 1) return this.accumulate(micro, lrScale);
    const feeds = this.feed(micro[0] as Batch, "trainStep");
    feeds[names.key] = this.key(0);
    this.updateFeeds(feeds, lrScale);
    const results = await this.parts.train.session.run(only(feeds, this.parts.train));
    const loss = Number(floats("trainStep", "loss", results)[0]);
    return { loss, gradNorm: this.takeUpdate(results) };
  }

  private async accumulate(micro: readonly Batch[], lrScale: number): Promise<StepResult> {
    this.accumulation ??= this.parts.accumulation();
    const { gradient, apply } = await this.accumulation;
    const sums = new Map<string, Float64Array>();
    let loss = 0;
    for (const [index, batch] of micro.entries()) {
      const feeds = this.feed(batch, "trainStep");
      feeds[names.key] = this.key(index);
      const results = await gradient.session.run(only(feeds, gradient));
      loss += Number(floats("trainStep", "loss", results)[0]);
      for (const { path } of this.parts.trainable) {
        const g = floats("trainStep", names.grad(path), results);
        const sum = sums.get(path) ?? new Float64Array(g.length);
        for (let index = 0; index < g.length; index += 1) sum[index] = (sum[index] ?? 0) + (g[index] ?? 0);
        sums.set(path, sum);
      }
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const { path } of this.parts.trainable) {
      const current = this.parameters.get(path) as FloatArray;
      feeds[path] = this.tensor(path, current);
      const mean = (sums.get(path) as Float64Array).map((value) => value / micro.length);
      feeds[names.grad(path)] = this.tensor(
        path,
        current instanceof Float32Array ? Float32Array.from(mean) : mean,
      );
    }
    this.updateFeeds(feeds, lrScale);
    const results = await apply.session.run(only(feeds, apply));
    return { loss: loss / micro.length, gradNorm: this.takeUpdate(results) };
  }

  /** The loss and the loss function's outputs on `batch`, in evaluation mode (no dropout, no update). */
  async evalStep(batch: Batch): Promise<Record<string, TensorValue>> {
    const results = await this.parts.evaluate.session.run(
      only(this.feed(batch, "evalStep"), this.parts.evaluate),
    );
    const out: Record<string, TensorValue> = {};
    for (const name of this.evalOutputs) out[name] = fromOrtTensor(results[name] as ort.Tensor);
    return out;
  }

  /** Parameters (by path) and optimizer state (by `slot:path`) with their shapes, for checkpoints. */
  snapshot(): Snapshot {
    const tensors = new Map<string, FloatArray>([...this.parameters, ...this.state]);
    const paths = new Map(this.parts.stateNames);
    const shapes = new Map<string, readonly number[]>();
    for (const [name] of tensors) shapes.set(name, this.parts.shapes.get(paths.get(name) ?? name) ?? []);
    return { tensors, shapes };
  }

  /**
   * Restores parameters and optimizer state saved by `snapshot`, and the step count. Every tensor
   * must belong to this model; with `shapes` (as `snapshot` and checkpoints give them) each shape
   * must match too, not only the number of values.
   */
  restore(
    tensors: ReadonlyMap<string, FloatArray>,
    step: number,
    shapes?: ReadonlyMap<string, readonly number[]>,
  ): void {
    if (!(Number.isInteger(step) && step >= 0)) {
      throw new RuntimeError("restore", "step", "a non-negative integer", String(step));
    }
    const own = new Map([...this.parameters, ...this.state]);
    for (const [name, value] of tensors) {
      if (!own.has(name))
        throw new RuntimeError(
          "restore",
          name,
          "a parameter or optimizer state of this model",
          `a tensor of ${value.length} values the model lacks`,
        );
    }
    const expectedShapes = this.snapshot().shapes;
    for (const [name, current] of own) {
      const value = tensors.get(name);
      if (!value) throw new RuntimeError("restore", name, "a saved tensor", "nothing");
      if (value.length !== current.length || value.constructor !== current.constructor) {
        throw new RuntimeError(
          "restore",
          name,
          `${current.length} ${current.constructor.name} values`,
          `${value.length} ${value.constructor.name}`,
        );
      }
      if (shapes) {
        const expected = expectedShapes.get(name) ?? [];
        const got = shapes.get(name);
        if (!got || got.length !== expected.length || got.some((size, axis) => size !== expected[axis]))
          throw new RuntimeError(
            "restore",
            name,
            `shape [${expected.join(", ")}]`,
            got ? `[${got.join(", ")}]` : "no shape",
          );
      }
    }
    for (const [name] of this.parameters) this.parameters.set(name, tensors.get(name) as FloatArray);
    for (const [name] of this.state) this.state.set(name, tensors.get(name) as FloatArray);
    this.step = step;
  }

  async release(): Promise<void> {
    await this.parts.train.session.release();
    await this.parts.evaluate.session.release();
    if (this.accumulation) {
      const { gradient, apply } = await this.accumulation;
      await gradient.session.release();
      await apply.session.release();
    }
  }
}
