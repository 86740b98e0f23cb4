import { isFloat } from "./dtype.js";
import { add, scalarLike } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { ancestors, type Node, type Tensor } from "./graph.js";
import { formatShape, sameShape } from "./shape.js";
import { reduceSum, squeeze, zerosLike } from "./structural.js";

/**
 * Undoes broadcasting: sums `g` down to `target`'s shape. Leading extra axes are summed away, and
 * axes where `target` has size 1 but `g` does not are summed with keepdims. Symbolic dims of `target`
 * are taken as not broadcast.
 */
export function sumTo(g: Tensor, target: Tensor): Tensor {
  if (sameShape(g.shape, target.shape)) return g;
  const lead = g.rank - target.rank;
  if (lead < 0) throw new GraphError("grad", "gradient", `rank >= ${target.rank}`, formatShape(g.shape));
  let result = reduceSum(
    g,
    Array.from({ length: lead }, (_, index) => index),
    false,
  );
  const axes = target.shape.flatMap((dim, index) => (dim === 1 && result.shape[index] !== 1 ? [index] : []));
  if (axes.length > 0) result = reduceSum(result, axes, true);
  return result;
}

/**
 * Reverse mode: the vector-Jacobian product of `outputs` with cotangents `seeds` (`null` is a zero),
 * with respect to each of `wrt`; `null` where no gradient reaches a `wrt` tensor.
 *
 * Only nodes on a path from some `wrt` to some output are differentiated (pruning), gradients of
 * values used more than once are summed, broadcasting is undone with `sumTo`, and zeros stay symbolic.
 */
export function vjp(
  outputs: readonly Tensor[],
  seeds: readonly (Tensor | null)[],
  wrt: readonly Tensor[],
): (Tensor | null)[] {
  const nodes = ancestors(outputs);
  const active = new Set<Tensor>(wrt.filter((tensor) => isFloat(tensor.dtype)));
  for (const node of nodes) {
    if (node.inputs.some((input) => active.has(input))) {
      for (const output of node.outputs) if (isFloat(output.dtype)) active.add(output);
    }
  }
  const grads = new Map<Tensor, Tensor>();
  const accumulate = (tensor: Tensor, g: Tensor) => {
    const previous = grads.get(tensor);
    grads.set(tensor, previous ? add(previous, g) : g);
  };
  for (const [index, output] of outputs.entries()) {
    const seed = seeds[index];
    if (seed && active.has(output)) accumulate(output, seed);
  }
  for (let position = nodes.length - 1; position >= 0; position -= 1) {
    const node = nodes[position] as Node;
    const dy = node.outputs.map((output) => grads.get(output) ?? null);
    if (dy.every((g) => g === null)) continue;
    const needs = node.inputs.map((input) => active.has(input));
    if (!needs.some(Boolean)) continue;
    if (!node.vjp) throw new GraphError("grad", node.op, "a gradient rule", `none for op ${node.op}`);
    const inputGrads = node.vjp(dy, needs);
    for (const [index, input] of node.inputs.entries()) {
      const g = inputGrads[index];
      if (g && needs[index]) accumulate(input, sumTo(g, input));
    }
  }
  return wrt.map((tensor) => grads.get(tensor) ?? null);
}

/**
 * Gradients of a scalar float `loss` with respect to each of `wrt`. A `wrt` tensor the loss does
 * not depend on gets zeros of its shape.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (loss.rank !== 0 && !(loss.rank === 1 && loss.shape[0] === 1)) {
    throw new GraphError("grad", "loss", "a scalar", `shape ${formatShape(loss.shape)}`);
  }
  if (!isFloat(loss.dtype)) throw new GraphError("grad", "loss", "a float32 or float64 scalar", loss.dtype);
  for (const [index, tensor] of wrt.entries()) {
    if (!isFloat(tensor.dtype)) throw new GraphError("grad", `wrt[${index}]`, "a float tensor", tensor.dtype);
  }
  const scalar = loss.rank === 0 ? loss : squeeze(loss, [0]);
  const grads = vjp([scalar], [scalarLike(1, scalar)], wrt);
  return grads.map((g, index) => g ?? zerosLike(wrt[index] as Tensor));
}
