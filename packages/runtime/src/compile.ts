import { toOnnx } from "@xlt/graph";
import { flatten, initialize, type Parameter, type ParameterTree } from "@xlt/nn";
import { RuntimeError } from "./errors.js";
import { assignGroups, type ParameterGroup } from "./groups.js";
import { type OptimizerOptions, validateOptimizer } from "./optimizers.js";
import type { SessionConfig } from "./providers.js";
import { type PortableModel, type PortableParts, type Step, stepOf, TrainingSession } from "./session.js";
import {
  buildApplyGraph,
  buildForward,
  buildGradientGraph,
  buildTrainGraph,
  type FloatArray,
  type InputSpec,
  type LossFunction,
  type TrainableEntry,
} from "./train-graph.js";

/** A model: anything with a parameter tree (every `@xlt/nn` module). */
export interface Model {
  readonly parameters: ParameterTree;
}

export interface CompileOptions<K extends string = string> extends SessionConfig {
  readonly inputs: Readonly<Record<K, InputSpec>>;
  readonly optimizer: OptimizerOptions;
  readonly groups: readonly ParameterGroup[];
  /** Clip gradients to this global L2 norm (as torch's `clip_grad_norm_`). */
  readonly clipNorm?: number;
  /** Seed of the parameter initialisers (default 0); ignored for parameters given in `values`. */
  readonly seed?: number;
  /** Initial parameter values by dotted path (e.g. from a checkpoint). */
  readonly values?: ReadonlyMap<string, FloatArray>;
}

function makeStep(outputs: Parameters<typeof toOnnx>[0], config: SessionConfig): Promise<Step> {
  return stepOf(portable(outputs), config);
}

/** @internal */
export function portable(outputs: Parameters<typeof toOnnx>[0]): PortableModel {
  const model = toOnnx(outputs);
  return {
    bytes: model.bytes,
    externalData: model.externalData,
    inputs: model.inputs.map((input) => input.name),
  };
}

function checkOptions<K extends string>(model: Model, options: CompileOptions<K>): [string, Parameter][] {
  validateOptimizer(options.optimizer);
  if (options.clipNorm !== undefined && !(options.clipNorm > 0)) {
    throw new RuntimeError("compile", "clipNorm", "a number > 0", String(options.clipNorm));
  }
  const entries = flatten(model.parameters);
  for (const [path, parameter] of entries) {
    if (path in options.inputs)
      throw new RuntimeError("compile", `inputs.${path}`, "a name that is not a parameter path", path);
    const given = options.values?.get(path);
    const size = parameter.shape.reduce((p, d) => p * d, 1);
    if (given && given.length !== size)
      throw new RuntimeError("compile", `values.${path}`, `${size} values`, String(given.length));
  }
  if (!entries.some(([, parameter]) => parameter.trainable)) {
    throw new RuntimeError(
      "compile",
      "model.parameters",
      "at least one trainable parameter",
      entries.length === 0 ? "no parameters" : `${entries.length} parameters, all frozen`,
    );
  }
  return entries;
}

/** The graphs and plain data of a compiled model, before any ORT session exists. */
export interface Prepared {
  readonly parts: PortableParts;
  readonly train: Parameters<typeof toOnnx>[0];
  readonly evaluate: Parameters<typeof toOnnx>[0];
  readonly gradient: () => Parameters<typeof toOnnx>[0];
  readonly apply: () => Parameters<typeof toOnnx>[0];
}

/** @internal Validates the options and builds the training and evaluation graphs. */
export function prepare<K extends string>(
  model: Model,
  loss: LossFunction<K>,
  options: CompileOptions<K>,
): Prepared {
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
  const { optimizer, groups, clipNorm } = options;
  const built = buildTrainGraph(
    model.parameters,
    values,
    options.inputs,
    loss,
    trainable,
    groups,
    optimizer,
    clipNorm,
  );
  const state = new Map<string, FloatArray>();
  for (const [name, path] of built.stateNames) {
    const current = values.get(path) as FloatArray;
    state.set(
      name,
      current instanceof Float32Array ? new Float32Array(current.length) : new Float64Array(current.length),
    );
  }
  const evaluation = buildForward(model.parameters, values, options.inputs, loss, false).result;
  const evaluate = { loss: evaluation.loss, ...(evaluation.outputs ?? {}) };
  return {
    parts: {
      parameters: values,
      state,
      trainable: trainable.map(({ path }) => ({ path })),
      shapes: new Map(entries.map(([path, parameter]) => [path, parameter.shape])),
      inputs: options.inputs,
      groups: groups.map(({ name, lr, weightDecay }) => ({
        name,
        lr,
        ...(weightDecay !== undefined ? { weightDecay } : {}),
      })),
      stateNames: built.stateNames,
      evalOutputs: Object.keys(evaluate),
    },
    train: built.outputs,
    evaluate,
    gradient: () => buildGradientGraph(model.parameters, values, options.inputs, loss, trainable),
    apply: () => buildApplyGraph(trainable, groups, optimizer, clipNorm),
  };
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
  const prepared = prepare(model, loss, options);
  return new TrainingSession({
    ...prepared.parts,
    train: await makeStep(prepared.train, options),
    evaluate: await makeStep(prepared.evaluate, options),
    accumulation: async () => ({
      gradient: await makeStep(prepared.gradient(), options),
      apply: await makeStep(prepared.apply(), options),
    }),
  });
}
