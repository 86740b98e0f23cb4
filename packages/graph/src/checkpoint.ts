import { vjp } from "./autodiff.js";
import { isFloat } from "./dtype.js";
import { stopGradient } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { apply, type Graph, type Node, type Primitive, type Tensor, type TensorType } from "./graph.js";

interface CheckpointAttrs {
  /** The nodes `fn` added that its outputs need, in topological order. */
  readonly nodes: readonly Node[];
  readonly outputs: readonly Tensor[];
  readonly inputs: readonly Tensor[];
  /** Tensors the nodes read that neither they nor `inputs` produce: weights, masks, constants. */
  readonly free: readonly Tensor[];
}

/**
 * The forward values pass through (ONNX Identity); the gradient recomputes the checkpointed nodes
 * from the inputs and differentiates the recomputed copy. Inputs: the function's outputs, then its
 * inputs, then its free tensors. Gradients go to the inputs and free tensors only, so the engine
 * never reaches the forward nodes between them and their intermediates are not kept.
 */
const Checkpoint: Primitive<CheckpointAttrs> = {
  name: "Checkpoint",
  infer: (_inputs, { outputs }) => outputs.map((tensor) => ({ dtype: tensor.dtype, shape: tensor.shape })),
  emit: (context, inputs, outputs) => {
    for (const [index, output] of outputs.entries())
      context.node("Identity", [inputs[index] as string], [output]);
  },
  vjp: ({ dy, inputs, attrs, needs }) => checkpointVjp(dy, inputs, attrs, needs),
};

/**
 * `x'_i = x_i`, computed only once `anchor` (an upstream gradient) exists: `s = ReduceSum(anchor)`,
 * `x'_i = Where(IsNaN(s), x_i, x_i)`. Both branches are `x_i`, so the value is `x_i` exactly, even
 * when the gradient holds Inf or NaN; the data dependence orders the recomputation after the
 * gradient and keeps ORT's common-subexpression elimination from merging it with the forward pass.
 * Its own gradient is none: the recomputed copy is a leaf of the inner differentiation.
 */
const AfterGradient: Primitive<null> = {
  name: "AfterGradient",
  infer: (inputs) =>
    inputs.slice(1).map((tensor): TensorType => ({ dtype: tensor.dtype, shape: tensor.shape })),
  emit: (context, [anchor, ...xs], outputs) => {
    const sum = context.fresh("anchor_sum");
    const condition = context.fresh("anchor_nan");
    context.node("ReduceSum", [anchor as string], [sum], { keepdims: { int: 0 } });
    context.node("IsNaN", [sum], [condition]);
    for (const [index, x] of xs.entries())
      context.node("Where", [condition, x, x], [outputs[index] as string]);
  },
  vjp: ({ inputs }) => inputs.map(() => null),
};

/**
 * Gradient checkpointing (rematerialisation; JAX's `checkpoint`, torch's
 * `torch.utils.checkpoint`): the forward value is `fn(inputs)`, but the backward pass recomputes
 * `fn` from `inputs` instead of keeping its intermediate values alive from the forward pass to the
 * backward pass. Peak memory of a deep stack drops from every layer's intermediates to the layer
 * inputs plus one layer's intermediates, at the cost of running each checkpointed forward twice.
 *
 * Tensors that `fn` reads from its closure (weights, masks) receive their gradients as usual; they
 * are read again, not recomputed. The recomputation is tied to the incoming gradient by a data
 * dependence, so ONNX Runtime runs it during the backward pass and cannot merge it with the
 * forward pass (common-subexpression elimination). `fn` must be deterministic given its inputs:
 * keyed noise (`hashUniformLike`, `dropout` with a key) recomputes the same mask, while
 * `randomUniformLike` would draw a new one and is refused.
 */
export function checkpoint(fn: (inputs: readonly Tensor[]) => Tensor, inputs: readonly Tensor[]): Tensor;
export function checkpoint(
  fn: (inputs: readonly Tensor[]) => readonly Tensor[],
  inputs: readonly Tensor[],
): Tensor[];
export function checkpoint(
  fn: (inputs: readonly Tensor[]) => Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
): Tensor | Tensor[] {
  const first = inputs[0];
  if (!first) throw new GraphError("checkpoint", "inputs", "at least one tensor", "none");
  const graph = innermost(inputs);
  const start = graph.nodes.length;
  const result = fn(inputs);
  const single = !Array.isArray(result);
  const outputs: readonly Tensor[] = Array.isArray(result) ? result : [result as Tensor];
  if (outputs.length === 0) throw new GraphError("checkpoint", "fn", "at least one output tensor", "none");
  const added = new Set(graph.nodes.slice(start));
  const nodes = needed(outputs, added);
  const random = nodes.find((node) => node.op === "RandomUniformLike");
  if (random) {
    throw new GraphError(
      "checkpoint",
      "fn",
      "a deterministic function (keyed noise such as hashUniformLike)",
      "randomUniformLike, which would draw a different value when recomputed",
    );
  }
  const produced = new Set(nodes.flatMap((node) => node.outputs));
  const inputSet = new Set(inputs);
  const free: Tensor[] = [];
  const freeSet = new Set<Tensor>();
  const noteFree = (tensor: Tensor) => {
    if (produced.has(tensor) || inputSet.has(tensor) || freeSet.has(tensor)) return;
    freeSet.add(tensor);
    free.push(tensor);
  };
  for (const node of nodes) {
    for (const input of node.inputs) noteFree(input);
    for (const body of node.bodies) {
      for (const outer of captures(body.outputs)) {
        if (produced.has(outer) || inputSet.has(outer)) {
          throw new GraphError(
            "checkpoint",
            "fn",
            "loops (Scan) whose bodies capture only tensors from outside fn",
            `a ${node.op} capturing a tensor that fn computes`,
          );
        }
      }
    }
  }
  for (const output of outputs) noteFree(output);
  const wrapped = apply(Checkpoint, [...outputs, ...inputs, ...free], { nodes, outputs, inputs, free });
  return single ? (wrapped[0] as Tensor) : [...wrapped];
}

function checkpointVjp(
  dy: readonly (Tensor | null)[],
  actual: readonly Tensor[],
  attrs: CheckpointAttrs,
  needs: readonly boolean[],
): (Tensor | null)[] {
  const { nodes, outputs, inputs, free } = attrs;
  const result: (Tensor | null)[] = actual.map(() => null);
  const anchor = dy.find((g): g is Tensor => g !== null);
  if (!anchor) return result;
  const n = outputs.length;
  const m = inputs.length;
  const actualInputs = actual.slice(n, n + m);
  const actualFree = actual.slice(n + m);
  // Every input passes the gate, whatever its dtype: a function of integer ids and closure weights
  // alone (an embedding lookup) must also wait for the gradient.
  const gated = [...apply(AfterGradient, [anchor, ...actualInputs], null)];
  const mapping = new Map<Tensor, Tensor>();
  for (const [index, tensor] of inputs.entries()) mapping.set(tensor, gated[index] as Tensor);
  // Free float tensors that need a gradient are read through StopGradient (an Identity, no copy):
  // the inner differentiation then ends there instead of running on into the forward graph.
  const freeWrt: Tensor[] = [];
  for (const [index, tensor] of free.entries()) {
    const value = actualFree[index] as Tensor;
    if (needs[n + m + index] && isFloat(value.dtype)) {
      const alias = stopGradient(value);
      mapping.set(tensor, alias);
      freeWrt.push(alias);
    } else mapping.set(tensor, value);
  }
  const resolve = (tensor: Tensor): Tensor => mapping.get(tensor) ?? tensor;
  for (const node of nodes) {
    const results = node.replay(node.inputs.map(resolve));
    for (const [index, output] of node.outputs.entries()) mapping.set(output, results[index] as Tensor);
  }
  const inputWrt = gated.map((tensor, index) => (needs[n + index] && isFloat(tensor.dtype) ? tensor : null));
  const wrt = [...inputWrt.flatMap((tensor) => (tensor ? [tensor] : [])), ...freeWrt];
  const grads = vjp(outputs.map(resolve), dy, wrt);
  let next = 0;
  for (const [index, tensor] of inputWrt.entries()) {
    if (!tensor) continue;
    result[n + index] = grads[next] ?? null;
    next += 1;
  }
  let freeIndex = 0;
  for (const [index, tensor] of free.entries()) {
    if (mapping.get(tensor) !== freeWrt[freeIndex]) continue;
    result[n + m + index] = grads[next] ?? null;
    next += 1;
    freeIndex += 1;
  }
  return result;
}

/** The graph whose nodes `fn` adds: the innermost graph among the inputs. */
function innermost(inputs: readonly Tensor[]): Graph {
  let graph = (inputs[0] as Tensor).graph;
  for (const tensor of inputs) {
    if (graph.sees(tensor.graph)) continue;
    if (tensor.graph.sees(graph)) graph = tensor.graph;
    else
      throw new GraphError(
        "checkpoint",
        "inputs",
        "tensors of one graph (or its enclosing graphs)",
        "tensors of unrelated graphs",
      );
  }
  return graph;
}

/** The nodes among `added` that `outputs` depend on, in creation order. */
function needed(outputs: readonly Tensor[], added: ReadonlySet<Node>): Node[] {
  const seen = new Set<Node>();
  const stack = outputs.flatMap((tensor) => (tensor.source.kind === "node" ? [tensor.source.node] : []));
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (seen.has(node) || !added.has(node)) continue;
    seen.add(node);
    for (const input of node.inputs) if (input.source.kind === "node") stack.push(input.source.node);
  }
  return [...seen].sort((a, b) => a.order - b.order);
}

/** Outer tensors that a subgraph's values capture (one level). */
function captures(outputs: readonly Tensor[]): Tensor[] {
  const found: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const tensor = stack.pop() as Tensor;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const source = tensor.source;
    if (source.kind === "capture") found.push(source.outer);
    else if (source.kind === "node") stack.push(...source.node.inputs);
  }
  return found;
}
