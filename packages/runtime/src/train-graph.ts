import {
  add,
  cast,
  type DType,
  div,
  Graph,
  grad,
  less,
  mul,
  reduceSum,
  type Shape,
  sqrt,
  type Tensor,
  where,
} from "@xlt/graph";
import { bind, type ForwardContext, type Parameter, type ParameterTree, type TensorTree } from "@xlt/nn";
import type { ParameterGroup } from "./groups.js";
import { type OptimizerOptions, stateSlots, update } from "./optimizers.js";

/** A batch input's declaration. */
export interface InputSpec {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** What a loss function returns: the scalar loss and, optionally, named outputs for evaluation. */
export interface LossResult {
  readonly loss: Tensor;
  readonly outputs?: Readonly<Record<string, Tensor>>;
}

/** Builds the loss from bound parameters and batch inputs. Called once per compiled graph. */
export type LossFunction<K extends string = string> = (
  params: TensorTree,
  inputs: Readonly<Record<K, Tensor>>,
  context: ForwardContext,
) => LossResult;

/** A parameter's or state tensor's value. */
export type FloatArray = Float32Array | Float64Array;

/** A trainable parameter with its group. */
export interface TrainableEntry {
  readonly path: string;
  readonly parameter: Parameter;
  readonly group: ParameterGroup;
}

/** ONNX names of the per-step inputs and outputs. */
export const names = {
  step: "step",
  key: "dropout_key",
  lr: (group: string) => `lr:${group}`,
  decay: (group: string) => `wd:${group}`,
  state: (slot: string, path: string) => `${slot}:${path}`,
  grad: (path: string) => `grad:${path}`,
  next: (name: string) => `next:${name}`,
};

/** The forward graph: trainable parameters as inputs, frozen ones as initializers, then the loss. */
export function buildForward<K extends string>(
  tree: ParameterTree,
  values: ReadonlyMap<string, FloatArray>,
  inputSpecs: Readonly<Record<K, InputSpec>>,
  loss: LossFunction<K>,
  training: boolean,
): { graph: Graph; leaves: Map<string, Tensor>; result: LossResult } {
  const graph = new Graph();
  const leaves = new Map<string, Tensor>();
  const params = bind(tree, (path, parameter) => {
    const tensor = parameter.trainable
      ? graph.input(path, parameter.dtype, parameter.shape)
      : graph.initializer(path, values.get(path) as FloatArray, parameter.shape);
    leaves.set(path, tensor);
    return tensor;
  });
  const inputs = {} as Record<K, Tensor>;
  for (const name of Object.keys(inputSpecs) as K[]) {
    const spec: InputSpec = inputSpecs[name];
    inputs[name] = graph.input(name, spec.dtype, spec.shape);
  }
  const context = training ? { training, key: graph.input(names.key, "int64", []) } : { training };
  return { graph, leaves, result: loss(params, inputs, context) };
}

/**
 * Appends clipping by global norm (as torch's `clip_grad_norm_`) and the optimizer update of every
 * trainable parameter, with the step and each group's learning rate and weight decay as inputs.
 * Returns the outputs (`grad_norm`, `next:<path>`, `next:<slot>:<path>`) and the state slots' names.
 */
export function appendUpdate(
  graph: Graph,
  trainable: readonly TrainableEntry[],
  params: readonly Tensor[],
  rawGrads: readonly Tensor[],
  groups: readonly ParameterGroup[],
  optimizer: OptimizerOptions,
  clipNorm: number | undefined,
): { outputs: Record<string, Tensor>; stateNames: [name: string, path: string][] } {
  const step = graph.input(names.step, "float64", []);
  const scalars = new Map(
    groups.map((group) => [
      group.name,
      {
        lr: graph.input(names.lr(group.name), "float64", []),
        decay: graph.input(names.decay(group.name), "float64", []),
      },
    ]),
  );
  const squared = rawGrads.map((g) => mul(g, g));
  const squares = squared.map((g2) => cast(reduceSum(g2), "float64"));
  const gradNorm = sqrt(squares.reduce((sum, term) => add(sum, term)));
  // torch's clip_grad_norm_: scale by min(1, maxNorm / (norm + 1e-6)), folded into the update.
  let scale: Tensor | null = null;
  if (clipNorm !== undefined) {
    const coefficient = div(clipNorm, add(gradNorm, 1e-6));
    scale = where(less(coefficient, 1), coefficient, 1);
  }
  const outputs: Record<string, Tensor> = { grad_norm: gradNorm };
  const slots = stateSlots(optimizer);
  const stateNames: [string, string][] = [];
  for (const [index, { path, parameter, group }] of trainable.entries()) {
    const slotTensors: Record<string, Tensor> = {};
    for (const slot of slots) {
      const name = names.state(slot, path);
      slotTensors[slot] = graph.input(name, parameter.dtype, parameter.shape);
      stateNames.push([name, path]);
    }
    const groupScalars = scalars.get(group.name) as { lr: Tensor; decay: Tensor };
    const next = update(optimizer, params[index] as Tensor, rawGrads[index] as Tensor, slotTensors, {
      lr: groupScalars.lr,
      weightDecay: parameter.decay && (group.weightDecay ?? 0) > 0 ? groupScalars.decay : null,
      step,
      gradScale: scale,
      gradSquared: squared[index] ?? null,
    });
    outputs[names.next(path)] = next.param;
    for (const slot of slots) outputs[names.next(names.state(slot, path))] = next.state[slot] as Tensor;
  }
  return { outputs, stateNames };
}

/** The fused step: forward, backward, clipping and update in one graph. */
export function buildTrainGraph<K extends string>(
  tree: ParameterTree,
  values: ReadonlyMap<string, FloatArray>,
  inputSpecs: Readonly<Record<K, InputSpec>>,
  loss: LossFunction<K>,
  trainable: readonly TrainableEntry[],
  groups: readonly ParameterGroup[],
  optimizer: OptimizerOptions,
  clipNorm: number | undefined,
) {
  const { graph, leaves, result } = buildForward(tree, values, inputSpecs, loss, true);
  const params = trainable.map(({ path }) => leaves.get(path) as Tensor);
  const grads = grad(result.loss, params);
  const { outputs, stateNames } = appendUpdate(graph, trainable, params, grads, groups, optimizer, clipNorm);
  return { outputs: { loss: result.loss, ...outputs }, stateNames };
}

/** For gradient accumulation: the loss and the raw gradient of every trainable parameter. */
export function buildGradientGraph<K extends string>(
  tree: ParameterTree,
  values: ReadonlyMap<string, FloatArray>,
  inputSpecs: Readonly<Record<K, InputSpec>>,
  loss: LossFunction<K>,
  trainable: readonly TrainableEntry[],
): Record<string, Tensor> {
  const { leaves, result } = buildForward(tree, values, inputSpecs, loss, true);
  const grads = grad(
    result.loss,
    trainable.map(({ path }) => leaves.get(path) as Tensor),
  );
  const outputs: Record<string, Tensor> = { loss: result.loss };
  for (const [index, { path }] of trainable.entries()) outputs[names.grad(path)] = grads[index] as Tensor;
  return outputs;
}

/** For gradient accumulation: the update alone, with the (averaged) gradients as inputs. */
export function buildApplyGraph(
  trainable: readonly TrainableEntry[],
  groups: readonly ParameterGroup[],
  optimizer: OptimizerOptions,
  clipNorm: number | undefined,
): Record<string, Tensor> {
  const graph = new Graph();
  const params = trainable.map(({ path, parameter }) => graph.input(path, parameter.dtype, parameter.shape));
  const grads = trainable.map(({ path, parameter }) =>
    graph.input(names.grad(path), parameter.dtype, parameter.shape),
  );
  return appendUpdate(graph, trainable, params, grads, groups, optimizer, clipNorm).outputs;
}
