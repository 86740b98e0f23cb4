import {
  add,
  cast,
  type DType,
  div,
  fromOrtTensor,
  Graph,
  grad,
  less,
  mul,
  reduceSum,
  type Shape,
  sqrt,
  type Tensor,
  type TensorValue,
  toOnnx,
  toOrtTensor,
  where,
} from "@xlt/graph";
import {
  bind,
  type ForwardContext,
  flatten,
  initialize,
  type Parameter,
  type ParameterTree,
  type TensorTree,
} from "@xlt/nn";
import type * as ort from "onnxruntime-node";
import { RuntimeError } from "./errors.js";
import { assignGroups, type ParameterGroup } from "./groups.js";
import { type OptimizerOptions, stateSlots, update, validateOptimizer } from "./optimizers.js";
import { createSession, type SessionConfig } from "./providers.js";

/** A batch input's declaration. */
export interface InputSpec {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** A model: anything with a parameter tree (every `@xlt/nn` module). */
export interface Model {
  readonly parameters: ParameterTree;
}

/** What a loss function returns: the scalar loss and, optionally, named outputs for evaluation. */
export interface LossResult {
  readonly loss: Tensor;
  readonly outputs?: Readonly<Record<string, Tensor>>;
}

/** Builds the loss from bound parameters and batch inputs. Called once for training, once for evaluation. */
export type LossFunction<K extends string = string> = (
  params: TensorTree,
  inputs: Readonly<Record<K, Tensor>>,
  context: ForwardContext,
) => LossResult;

export interface CompileOptions<K extends string = string> extends SessionConfig {
  readonly inputs: Readonly<Record<K, InputSpec>>;
  readonly optimizer: OptimizerOptions;
  readonly groups: readonly ParameterGroup[];
  /** Clip gradients to this global L2 norm (as torch's `clip_grad_norm_`). */
  readonly clipNorm?: number;
  /** Seed of the parameter initialisers (default 0); ignored for parameters given in `values`. */
  readonly seed?: number;
  /** Initial parameter values by dotted path (e.g. from a checkpoint). */
  readonly values?: ReadonlyMap<string, Float32Array | Float64Array>;
}

/** A parameter's or state tensor's value. */
export type FloatArray = Float32Array | Float64Array;

interface TrainableEntry {
  readonly path: string;
  readonly parameter: Parameter;
  readonly group: ParameterGroup;
}

/** One training step's results. */
export interface StepResult {
  readonly loss: number;
  /** The global gradient L2 norm before clipping. */
  readonly gradNorm: number;
}

const STEP = "step";

/** Model-level ONNX names of the per-step inputs and outputs. */
const names = {
  lr: (group: string) => `lr:${group}`,
  decay: (group: string) => `wd:${group}`,
  state: (slot: string, path: string) => `${slot}:${path}`,
  next: (name: string) => `next:${name}`,
};

/** The compiled training and evaluation steps of a model, with its parameters and optimizer state. */
export class TrainingSession {
  /** Optimizer steps taken so far. */
  step = 0;

  constructor(
    readonly parameters: Map<string, FloatArray>,
    readonly state: Map<string, FloatArray>,
    private readonly trainable: readonly TrainableEntry[],
    private readonly shapes: ReadonlyMap<string, readonly number[]>,
    private readonly inputs: Readonly<Record<string, InputSpec>>,
    private readonly groups: readonly ParameterGroup[],
    private readonly stateNames: readonly [name: string, path: string][],
    private readonly train: ort.InferenceSession,
    private readonly evaluate: ort.InferenceSession,
    private readonly trainInputs: ReadonlySet<string>,
    private readonly evalInputs: ReadonlySet<string>,
    readonly evalOutputs: readonly string[],
  ) {}

  /** Feeds only what the model declares (ORT refuses unknown feeds; unused inputs are pruned). */
  private static only(
    feeds: Record<string, ort.Tensor>,
    declared: ReadonlySet<string>,
  ): Record<string, ort.Tensor> {
    return Object.fromEntries(Object.entries(feeds).filter(([name]) => declared.has(name)));
  }

  private feed(batch: Readonly<Record<string, TensorValue>>, fn: string): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, spec] of Object.entries(this.inputs)) {
      const value = batch[name];
      if (!value) throw new RuntimeError(fn, `batch.${name}`, `a ${spec.dtype} tensor`, "nothing");
      feeds[name] = toOrtTensor(spec.dtype, value);
    }
    for (const { path } of this.trainable)
      feeds[path] = this.tensor(path, this.parameters.get(path) as FloatArray);
    return feeds;
  }

  private tensor(path: string, data: FloatArray): ort.Tensor {
    return toOrtTensor(data instanceof Float32Array ? "float32" : "float64", {
      data,
      dims: this.shapes.get(path) ?? [],
    });
  }

  /**
   * One optimizer step on `batch`: forward, backward, clipping and update in one `session.run`.
   * `lrScale` multiplies every group's learning rate (the schedule's value for this step).
   */
  async trainStep(batch: Readonly<Record<string, TensorValue>>, lrScale = 1): Promise<StepResult> {
    if (!(Number.isFinite(lrScale) && lrScale >= 0))
      throw new RuntimeError("trainStep", "lrScale", "a finite number >= 0", String(lrScale));
    const feeds = this.feed(batch, "trainStep");
    for (const [name, path] of this.stateNames)
      feeds[name] = this.tensor(path, this.state.get(name) as FloatArray);
    const scalar = (value: number) => toOrtTensor("float64", { data: Float64Array.of(value), dims: [] });
    feeds[STEP] = scalar(this.step + 1);
    for (const group of this.groups) {
      feeds[names.lr(group.name)] = scalar(group.lr * lrScale);
      feeds[names.decay(group.name)] = scalar(group.weightDecay ?? 0);
    }
    const results = await this.train.run(TrainingSession.only(feeds, this.trainInputs));
    const read = (name: string): FloatArray => {
      const data = fromOrtTensor(results[name] as ort.Tensor).data;
      if (data instanceof Float32Array || data instanceof Float64Array) return data;
      throw new RuntimeError("trainStep", name, "a float output", data.constructor.name);
    };
    for (const { path } of this.trainable) this.parameters.set(path, read(names.next(path)));
    for (const [name] of this.stateNames) this.state.set(name, read(names.next(name)));
    this.step += 1;
    return { loss: Number(read("loss")[0]), gradNorm: Number(read("grad_norm")[0]) };
  }

  /** The loss and the loss function's outputs on `batch`, in evaluation mode (no dropout, no update). */
  async evalStep(batch: Readonly<Record<string, TensorValue>>): Promise<Record<string, TensorValue>> {
    const results = await this.evaluate.run(
      TrainingSession.only(this.feed(batch, "evalStep"), this.evalInputs),
    );
    const out: Record<string, TensorValue> = {};
    for (const name of this.evalOutputs) out[name] = fromOrtTensor(results[name] as ort.Tensor);
    return out;
  }

  /** Parameters (by path) and optimizer state (by `slot:path`) with their shapes, for checkpoints. */
  snapshot(): { tensors: Map<string, FloatArray>; shapes: Map<string, readonly number[]> } {
    const tensors = new Map<string, FloatArray>([...this.parameters, ...this.state]);
    const shapes = new Map<string, readonly number[]>();
    for (const [name] of tensors)
      shapes.set(
        name,
        this.shapes.get(name) ?? this.shapes.get(this.stateNames.find(([n]) => n === name)?.[1] ?? "") ?? [],
      );
    return { tensors, shapes };
  }

  /** Restores parameters and optimizer state saved by `snapshot`, and the step count. */
  restore(tensors: ReadonlyMap<string, FloatArray>, step: number): void {
    if (!(Number.isInteger(step) && step >= 0))
      throw new RuntimeError("restore", "step", "a non-negative integer", String(step));
    const targets = [...this.parameters.entries(), ...this.state.entries()];
    for (const [name, current] of targets) {
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
    }
    for (const [name] of this.parameters) this.parameters.set(name, tensors.get(name) as FloatArray);
    for (const [name] of this.state) this.state.set(name, tensors.get(name) as FloatArray);
    this.step = step;
  }

  async release(): Promise<void> {
    await this.train.release();
    await this.evaluate.release();
  }
}

function checkOptions<K extends string>(model: Model, options: CompileOptions<K>): [string, Parameter][] {
  validateOptimizer(options.optimizer);
  if (options.clipNorm !== undefined && !(options.clipNorm > 0))
    throw new RuntimeError("compile", "clipNorm", "a number > 0", String(options.clipNorm));
  const entries = flatten(model.parameters);
  for (const [path, parameter] of entries) {
    if (path in options.inputs)
      throw new RuntimeError("compile", `inputs.${path}`, "a name that is not a parameter path", path);
    const given = options.values?.get(path);
    const size = parameter.shape.reduce((p, d) => p * d, 1);
    if (given && given.length !== size)
      throw new RuntimeError("compile", `values.${path}`, `${size} values`, String(given.length));
  }
  return entries;
}

/**
 * Compiles a model and its loss into a training step (forward, backward, optional clipping by
 * global norm, and the optimizer update, as one ONNX graph) and an evaluation step, both as
 * onnxruntime-node sessions. Trainable parameters and optimizer state go in and come out each step;
 * frozen parameters are initializers that stay inside the sessions. The step, each group's learning
 * rate and weight decay are inputs, so schedules never rebuild the graph.
 */
export async function compile<K extends string>(
  model: Model,
  loss: LossFunction<K>,
  options: CompileOptions<K>,
): Promise<TrainingSession> {
  const entries = checkOptions(model, options);
  const assigned = assignGroups(entries, options.groups);
  const initial = initialize(model.parameters, options.seed ?? 0);
  const values = new Map<string, FloatArray>();
  for (const [path, parameter] of entries) {
    const given = options.values?.get(path) ?? (initial.get(path) as FloatArray);
    values.set(path, parameter.dtype === "float32" ? Float32Array.from(given) : Float64Array.from(given));
  }
  const trainable: TrainableEntry[] = entries.flatMap(([path, parameter]) => {
    const group = assigned.get(path);
    return group ? [{ path, parameter, group }] : [];
  });
  const shapes = new Map(entries.map(([path, parameter]) => [path, parameter.shape]));

  const build = (training: boolean) => {
    const graph = new Graph();
    const leaves = new Map<string, Tensor>();
    const params = bind(model.parameters, (path, parameter) => {
      const data = values.get(path) as FloatArray;
      const tensor = parameter.trainable
        ? graph.input(path, parameter.dtype, parameter.shape)
        : graph.initializer(path, data, parameter.shape);
      leaves.set(path, tensor);
      return tensor;
    });
    const inputs = {} as Record<K, Tensor>;
    for (const name of Object.keys(options.inputs) as K[]) {
      const spec: InputSpec = options.inputs[name];
      inputs[name] = graph.input(name, spec.dtype, spec.shape);
    }
    const result = loss(params, inputs, { training });
    return { graph, leaves, result };
  };

  // Training graph.
  const { graph, leaves, result } = build(true);
  const lossValue = result.loss;
  const step = graph.input(STEP, "float64", []);
  const groupScalars = new Map(
    options.groups.map((group) => [
      group.name,
      {
        lr: graph.input(names.lr(group.name), "float64", []),
        decay: graph.input(names.decay(group.name), "float64", []),
      },
    ]),
  );
  const paramTensors = trainable.map(({ path }) => leaves.get(path) as Tensor);
  let grads = grad(lossValue, paramTensors);
  const squares = grads.map((g) => cast(reduceSum(mul(g, g)), "float64"));
  const gradNorm = sqrt(squares.reduce((sum, term) => add(sum, term)));
  if (options.clipNorm !== undefined) {
    const coefficient = div(options.clipNorm, add(gradNorm, 1e-6));
    const scale = where(less(coefficient, 1), coefficient, 1);
    grads = grads.map((g) => mul(g, cast(scale, g.dtype)));
  }
  const outputs: Record<string, Tensor> = { loss: lossValue, grad_norm: gradNorm };
  const slots = stateSlots(options.optimizer);
  const stateNames: [string, string][] = [];
  const state = new Map<string, FloatArray>();
  for (const [index, { path, parameter, group }] of trainable.entries()) {
    const p = paramTensors[index] as Tensor;
    const slotTensors: Record<string, Tensor> = {};
    for (const slot of slots) {
      const name = names.state(slot, path);
      slotTensors[slot] = graph.input(name, parameter.dtype, parameter.shape);
      stateNames.push([name, path]);
      const size = parameter.shape.reduce((a, b) => a * b, 1);
      state.set(name, parameter.dtype === "float32" ? new Float32Array(size) : new Float64Array(size));
    }
    const scalars = groupScalars.get(group.name);
    if (!scalars) throw new RuntimeError("compile", "groups", `a group named ${group.name}`, "none");
    const next = update(options.optimizer, p, grads[index] as Tensor, slotTensors, {
      lr: scalars.lr,
      weightDecay: parameter.decay && (group.weightDecay ?? 0) > 0 ? scalars.decay : null,
      step,
    });
    outputs[names.next(path)] = next.param;
    for (const slot of slots) outputs[names.next(names.state(slot, path))] = next.state[slot] as Tensor;
  }
  const trainModel = toOnnx(outputs);
  const train = await createSession(trainModel, options);

  // Evaluation graph.
  const evaluation = build(false);
  const evalOutputs: Record<string, Tensor> = {
    loss: evaluation.result.loss,
    ...(evaluation.result.outputs ?? {}),
  };
  const evalModel = toOnnx(evalOutputs);
  const evaluate = await createSession(evalModel, options);
  return new TrainingSession(
    values,
    state,
    trainable,
    shapes,
    options.inputs,
    options.groups,
    stateNames,
    train,
    evaluate,
    new Set(trainModel.inputs.map((input) => input.name)),
    new Set(evalModel.inputs.map((input) => input.name)),
    Object.keys(evalOutputs),
  );
}
