import { vjp } from "./autodiff.js";
import { isFloat } from "./dtype.js";
import { add } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { apply, Graph, type Node, type Primitive, type Tensor, type TensorType } from "./graph.js";
import { formatShape, normaliseAxis } from "./shape.js";
import { zerosLike } from "./structural.js";

/** What a Scan body returns for one step. */
export interface ScanStep {
  /** The next carried state, one per initial value, with the same dtypes. */
  readonly carry: readonly Tensor[];
  /** Per-step outputs, stacked along the scan axis. */
  readonly ys: readonly Tensor[];
}

export interface ScanOptions {
  /** The axis of every scanned input and stacked output (default 0; 1 for batch-first data). */
  readonly axis?: number;
  /** Run from the last step to the first; stacked outputs still line up with the inputs. */
  readonly reverse?: boolean;
}

/** The outputs of a Scan. */
export interface ScanResult {
  readonly carry: readonly Tensor[];
  readonly ys: readonly Tensor[];
}

interface ScanAttrs {
  readonly body: Graph;
  readonly carryIn: readonly Tensor[];
  readonly xIn: readonly Tensor[];
  readonly carryOut: readonly Tensor[];
  readonly yOut: readonly Tensor[];
  readonly captures: readonly Tensor[];
  readonly axis: number;
  readonly reverse: boolean;
}

const stacked = (type: TensorType, axis: number, steps: Tensor["shape"][number]): TensorType => {
  const shape = [...type.shape];
  shape.splice(axis, 0, steps);
  return { dtype: type.dtype, shape };
};

// Outputs: final carries, stacked ys, then the carry entering each step (saved for the gradient;
// emitted only when something uses it).
const Scan: Primitive<ScanAttrs> = {
  name: "Scan",
  infer: (inputs, { carryIn, yOut, axis }) => {
    const steps = (inputs[carryIn.length] as Tensor).shape[axis] ?? 0;
    const carries = carryIn.map((tensor) => ({ dtype: tensor.dtype, shape: tensor.shape }));
    return [
      ...carries,
      ...yOut.map((y) => stacked(y, axis, steps)),
      ...carries.map((c) => stacked(c, axis, steps)),
    ];
  },
  emit: (context, inputs, outputs, attrs, used) => {
    const { carryIn, xIn, carryOut, yOut, axis, reverse } = attrs;
    const saving = used.slice(carryIn.length + yOut.length).some(Boolean);
    const bodyOutputs = saving ? [...carryOut, ...yOut, ...carryIn] : [...carryOut, ...yOut];
    const scanOutputs = bodyOutputs.length - carryOut.length;
    const direction = reverse ? 1 : 0;
    context.node("Scan", inputs.slice(0, carryIn.length + xIn.length), outputs.slice(0, bodyOutputs.length), {
      body: context.subgraph([...carryIn, ...xIn], bodyOutputs),
      num_scan_inputs: { int: xIn.length },
      scan_input_axes: { ints: xIn.map(() => axis) },
      scan_input_directions: { ints: xIn.map(() => direction) },
      scan_output_axes: { ints: Array.from({ length: scanOutputs }, () => axis) },
      scan_output_directions: { ints: Array.from({ length: scanOutputs }, () => direction) },
    });
  },
  vjp: ({ dy, inputs, outputs, attrs, needs }) => scanVjp(dy, inputs, outputs, attrs, needs),
  bodies: ({ carryIn, xIn, carryOut, yOut }) => [
    { inputs: [...carryIn, ...xIn], outputs: [...carryOut, ...yOut] },
  ],
};

/**
 * A loop over `xs` along `options.axis` (ONNX Scan): `body(carry, x_t)` returns the next carry and
 * per-step outputs. Tensors of the enclosing graph used inside `body` (weights) are captured, and
 * gradients flow to them, to `init` and to `xs` through a reversed Scan over the saved states.
 * Sequences of different lengths in one batch are handled in the body with a mask input
 * (`carry = where(mask_t, next, carry)`); the number of steps itself is symbolic but must be at
 * least 1 at run time (ORT's Scan fails on zero iterations).
 */
export function scan(
  body: (carry: readonly Tensor[], xs: readonly Tensor[]) => ScanStep,
  init: readonly Tensor[],
  xs: readonly Tensor[],
  options: ScanOptions = {},
): ScanResult {
  const first = xs[0];
  if (!first) throw new GraphError("scan", "xs", "at least one scanned input", "none");
  const outer = [...init, ...xs].reduce(
    (graph, tensor) => (graph.sees(tensor.graph) ? graph : tensor.graph),
    first.graph,
  );
  const axis = normaliseAxis("scan", options.axis ?? 0, first.rank);
  const steps = first.shape[axis];
  for (const [index, x] of xs.entries()) {
    const dim = x.shape[axis];
    const compatible = dim === steps || typeof dim === "string" || typeof steps === "string";
    if (x.rank <= axis || !compatible) {
      throw new GraphError(
        "scan",
        `xs[${index}]`,
        `a tensor with ${String(steps)} steps on axis ${axis}`,
        formatShape(x.shape),
      );
    }
  }
  for (const [index, tensor] of init.entries()) {
    if (tensor.rank < axis) {
      throw new GraphError(
        "scan",
        `init[${index}]`,
        `a tensor of rank >= ${axis} (carries are stacked on axis ${axis} for the gradient)`,
        formatShape(tensor.shape),
      );
    }
  }
  const graph = new Graph(outer);
  const carryIn = init.map((tensor, index) =>
    graph.input(`scan${graph.nextId()}_carry${index}`, tensor.dtype, tensor.shape),
  );
  const xIn = xs.map((x, index) =>
    graph.input(
      `scan${graph.nextId()}_x${index}`,
      x.dtype,
      x.shape.filter((_, a) => a !== axis),
    ),
  );
  const step = body(carryIn, xIn);
  if (step.carry.length !== init.length) {
    throw new GraphError("scan", "body", `${init.length} carried values`, `${step.carry.length}`);
  }
  for (const [index, tensor] of step.carry.entries()) {
    const expected = init[index] as Tensor;
    if (tensor.dtype !== expected.dtype || tensor.rank !== expected.rank) {
      throw new GraphError(
        "scan",
        `body carry[${index}]`,
        `${expected.dtype}${formatShape(expected.shape)}`,
        `${tensor.dtype}${formatShape(tensor.shape)}`,
      );
    }
  }
  const inBody = (tensor: Tensor) => graph.capture(tensor);
  const carryOut = step.carry.map(inBody);
  const yOut = step.ys.map(inBody);
  const captured = graph.captured();
  const outputs = apply(Scan, [...init, ...xs, ...captured.map(([o]) => o)], {
    body: graph,
    carryIn,
    xIn,
    carryOut,
    yOut,
    captures: captured.map(([, inner]) => inner),
    axis,
    reverse: options.reverse ?? false,
  });
  return { carry: outputs.slice(0, init.length), ys: outputs.slice(init.length, init.length + yOut.length) };
}

/** Rebuilds the forward body in another graph, with `mapping` giving the body's inputs there. */
function replay(
  body: Graph,
  mapping: Map<Tensor, Tensor>,
  outputs: readonly Tensor[],
  target: Graph,
): Tensor[] {
  const resolve = (tensor: Tensor): Tensor => {
    const known = mapping.get(tensor);
    if (known) return known;
    const source = tensor.source;
    if (source.kind === "capture") return target.capture(source.outer);
    if (source.kind === "constant") {
      const copy = target.constant(source.data, tensor.shape.map(Number));
      mapping.set(tensor, copy);
      return copy;
    }
    throw new GraphError(
      "scan",
      "body",
      "a body built from its inputs, constants and outer tensors",
      `an unknown ${source.kind}`,
    );
  };
  const needed = new Set<Node>();
  const stack = outputs.flatMap((tensor) => (tensor.source.kind === "node" ? [tensor.source.node] : []));
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (needed.has(node)) continue;
    needed.add(node);
    for (const input of node.inputs) if (input.source.kind === "node") stack.push(input.source.node);
  }
  for (const node of body.nodes) {
    if (!needed.has(node)) continue;
    const results = node.replay(node.inputs.map(resolve));
    for (const [index, output] of node.outputs.entries()) mapping.set(output, results[index] as Tensor);
  }
  return outputs.map(resolve);
}

function scanVjp(
  dy: readonly (Tensor | null)[],
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  attrs: ScanAttrs,
  needs: readonly boolean[],
): (Tensor | null)[] {
  const { body, carryIn, xIn, carryOut, yOut, captures, axis, reverse } = attrs;
  const nc = carryIn.length;
  const nx = xIn.length;
  const ny = yOut.length;
  if (dy.slice(nc + ny).some((g) => g !== null)) {
    throw new GraphError("grad", "Scan", "no gradient into saved states (first-order only)", "one");
  }
  const floatCarry = carryIn.map((tensor) => isFloat(tensor.dtype));
  const carryIndices = carryIn.flatMap((_, i) => (floatCarry[i] ? [i] : []));
  const captureIndices = captures.flatMap((_, k) => (needs[nc + nx + k] ? [k] : []));
  const yIndices = yOut.flatMap((_, j) => (dy[nc + j] ? [j] : []));
  const xs = inputs.slice(nc, nc + nx);
  const outerCaptures = inputs.slice(nc + nx);
  const saved = outputs.slice(nc + ny);
  const backward = scan(
    (state, stepInputs) => {
      const dCarry = state.slice(0, carryIndices.length);
      const dCaptures = state.slice(carryIndices.length);
      const carries = stepInputs.slice(0, nc);
      const xSteps = stepInputs.slice(nc, nc + nx);
      const dYs = stepInputs.slice(nc + nx);
      const target = (carries[0] ?? xSteps[0] ?? dYs[0]) as Tensor;
      const mapping = new Map<Tensor, Tensor>();
      for (const [i, tensor] of carryIn.entries()) mapping.set(tensor, carries[i] as Tensor);
      for (const [j, tensor] of xIn.entries()) mapping.set(tensor, xSteps[j] as Tensor);
      const forward = replay(
        body,
        mapping,
        [...carryIndices.map((i) => carryOut[i] as Tensor), ...yIndices.map((j) => yOut[j] as Tensor)],
        target.graph,
      );
      const captureTensors = captureIndices.map((k) => target.graph.capture(outerCaptures[k] as Tensor));
      const wrt = [...carryIndices.map((i) => carries[i] as Tensor), ...xSteps, ...captureTensors];
      const grads = vjp(forward, [...dCarry, ...dYs], wrt);
      const nextCarry = carryIndices.map((i, position) => grads[position] ?? zerosLike(carries[i] as Tensor));
      const dxs = xSteps.map((x, j) =>
        needs[nc + j] && isFloat(x.dtype) ? (grads[carryIndices.length + j] ?? zerosLike(x)) : null,
      );
      const nextCaptures = dCaptures.map((acc, position) => {
        const g = grads[carryIndices.length + nx + position];
        return g ? add(acc, g) : acc;
      });
      return { carry: [...nextCarry, ...nextCaptures], ys: dxs.flatMap((g) => (g ? [g] : [])) };
    },
    [
      ...carryIndices.map((i) => dy[i] ?? zerosLike(outputs[i] as Tensor)),
      ...captureIndices.map((k) => zerosLike(outerCaptures[k] as Tensor)),
    ],
    [...saved, ...xs, ...yIndices.map((j) => dy[nc + j] as Tensor)],
    { axis, reverse: !reverse },
  );
  const result: (Tensor | null)[] = inputs.map(() => null);
  for (const [position, i] of carryIndices.entries())
    if (needs[i]) result[i] = backward.carry[position] ?? null;
  let next = 0;
  for (const [j, x] of xs.entries()) {
    if (needs[nc + j] && isFloat(x.dtype)) {
      result[nc + j] = backward.ys[next] ?? null;
      next += 1;
    }
  }
  for (const [position, k] of captureIndices.entries())
    result[nc + nx + k] = backward.carry[carryIndices.length + position] ?? null;
  return result;
}
