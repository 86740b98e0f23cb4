import { vjp } from "./autodiff.js";
import { isFloat } from "./dtype.js";
import { add } from "./elementwise.js";
import { GraphError } from "./errors.js";
import {
  ancestors,
  apply,
  Graph,
  type Node,
  type Primitive,
  producer,
  type Tensor,
  type TensorType,
} from "./graph.js";
import { formatShape, normaliseAxis } from "./shape.js";
import { matmul, reshape, transpose, transposeLast, zerosLike } from "./structural.js";

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
  /** Float values the body computes, each saved per step when the gradient reads it. */
  readonly residuals: readonly Tensor[];
  readonly axis: number;
  readonly reverse: boolean;
}

const stacked = (type: TensorType, axis: number, steps: Tensor["shape"][number]): TensorType => {
  const shape = [...type.shape];
  shape.splice(axis, 0, steps);
  return { dtype: type.dtype, shape };
};

// Outputs: final carries, stacked ys, then the carry entering each step and each residual, stacked
// (saved for the gradient; each emitted only when something uses it).
const Scan: Primitive<ScanAttrs> = {
  name: "Scan",
  infer: (inputs, { carryIn, yOut, residuals, axis }) => {
    const steps = (inputs[carryIn.length] as Tensor).shape[axis] ?? 0;
    const carries = carryIn.map((tensor) => ({ dtype: tensor.dtype, shape: tensor.shape }));
    return [
      ...carries,
      ...yOut.map((y) => stacked(y, axis, steps)),
      ...carries.map((c) => stacked(c, axis, steps)),
      ...residuals.map((r) => stacked(r, axis, steps)),
    ];
  },
  emit: (context, inputs, outputs, attrs, used) => {
    const { carryIn, xIn, carryOut, yOut, residuals, axis, reverse } = attrs;
    const first = carryIn.length + yOut.length;
    const savable = [...carryIn, ...residuals];
    const saved = savable.flatMap((_, index) => (used[first + index] ? [index] : []));
    const bodyOutputs = [...carryOut, ...yOut, ...saved.map((index) => savable[index] as Tensor)];
    const scanOutputs = bodyOutputs.length - carryOut.length;
    const direction = reverse ? 1 : 0;
    context.node(
      "Scan",
      inputs.slice(0, carryIn.length + xIn.length),
      [...outputs.slice(0, first), ...saved.map((index) => outputs[first + index] as string)],
      {
        body: context.subgraph([...carryIn, ...xIn], bodyOutputs),
        num_scan_inputs: { int: xIn.length },
        scan_input_axes: { ints: xIn.map(() => axis) },
        scan_input_directions: { ints: xIn.map(() => direction) },
        scan_output_axes: { ints: Array.from({ length: scanOutputs }, () => axis) },
        scan_output_directions: { ints: Array.from({ length: scanOutputs }, () => direction) },
      },
    );
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
    residuals: ancestors([...carryOut, ...yOut]).flatMap((node) =>
      node.outputs.filter((tensor) => isFloat(tensor.dtype)),
    ),
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
  // Only what `mapping` does not already hold (saved residuals) is computed again.
  const needed = new Set<Node>();
  const producerOf = (tensor: Tensor) =>
    tensor.source.kind === "node" && !mapping.has(tensor) ? [tensor.source.node] : [];
  const stack = outputs.flatMap(producerOf);
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (needed.has(node)) continue;
    needed.add(node);
    for (const input of node.inputs) stack.push(...producerOf(input));
  }
  for (const node of body.nodes) {
    if (!needed.has(node)) continue;
    const results = node.replay(node.inputs.map(resolve));
    for (const [index, output] of node.outputs.entries())
      if (!mapping.has(output)) mapping.set(output, results[index] as Tensor);
  }
  return outputs.map(resolve);
}

/**
 * Backpropagation through time: a Scan over the steps in the other order whose carries are the
 * gradients of the carries and the running sums of the captures' gradients. Its body reads the
 * values the forward body computed from the forward Scan's saved residuals rather than computing
 * them again: a first pass over a probe body finds which residuals the gradient reads, and only
 * those are saved.
 */
/** Where the backward Scan has a folded product's factor for every step: a scanned input or an output. */
interface FactorSource {
  readonly kind: "input" | "ys";
  readonly index: number;
}

function scanVjp(
  dy: readonly (Tensor | null)[],
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  attrs: ScanAttrs,
  needs: readonly boolean[],
): (Tensor | null)[] {
  const { body, carryIn, xIn, carryOut, yOut, captures, residuals, axis, reverse } = attrs;
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
  const savedCarries = outputs.slice(nc + ny, nc + ny + nc);
  const savedResiduals = outputs.slice(nc + ny + nc);
  const dYs = yIndices.map((j) => dy[nc + j] as Tensor);
  const carryInit = carryIndices.map((i) => dy[i] ?? zerosLike(outputs[i] as Tensor));
  const captureInit = (folded: readonly number[]) =>
    captureIndices.flatMap((k, position) =>
      folded.includes(position) ? [] : [zerosLike(outerCaptures[k] as Tensor)],
    );
  // One step of the backward body; `kept` lists the residuals that `steps` ends with, and captures
  // whose position in `folded` hand out their per-step product's factors instead of a running sum.
  const products: (readonly [Tensor, Tensor] | null)[] = [];
  const sources: FactorSource[] = [];
  const step =
    (kept: readonly number[], folded: readonly number[]) =>
    (state: readonly Tensor[], stepInputs: readonly Tensor[]) => {
      const dCarry = state.slice(0, carryIndices.length);
      const summed = captureIndices.flatMap((_, position) => (folded.includes(position) ? [] : [position]));
      const carries = stepInputs.slice(0, nc);
      const xSteps = stepInputs.slice(nc, nc + nx);
      const dYSteps = stepInputs.slice(nc + nx, nc + nx + yIndices.length);
      const residualSteps = stepInputs.slice(nc + nx + yIndices.length);
      const target = (carries[0] ?? xSteps[0] ?? dYSteps[0]) as Tensor;
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
      const grads = vjp(forward, [...dCarry, ...dYSteps], wrt);
      const nextCarry = carryIndices.map((i, position) => grads[position] ?? zerosLike(carries[i] as Tensor));
      const dxs = xSteps.flatMap((x, j) =>
        needs[nc + j] && isFloat(x.dtype) ? [grads[carryIndices.length + j] ?? zerosLike(x)] : [],
      );
      const captureGrads = captureIndices.map(
        (_, position) => grads[carryIndices.length + nx + position] ?? null,
      );
      // The gradient reads the forward values from the saved residuals, not from the replay.
      const saved = new Map<Tensor, Tensor>();
      for (const [position, r] of kept.entries()) {
        const replayed = mapping.get(residuals[r] as Tensor);
        if (replayed) saved.set(replayed, residualSteps[position] as Tensor);
      }
      const present = captureGrads.flatMap((g) => (g ? [g] : []));
      const rebuilt = substitute([...nextCarry, ...dxs, ...present], saved);
      const rebuiltGrads = captureGrads.map((g) =>
        g ? (rebuilt[nextCarry.length + dxs.length + present.indexOf(g)] as Tensor) : null,
      );
      products.length = 0;
      products.push(...rebuiltGrads.map((g) => (g ? transposedProduct(g) : null)));
      const sums = summed.map((position, index) => {
        const acc = state[carryIndices.length + index] as Tensor;
        const g = rebuiltGrads[position];
        return g ? add(acc, g) : acc;
      });
      // A factor that is a scanned input or already a per-step output is read from there.
      const dxOut = rebuilt.slice(nextCarry.length, nextCarry.length + dxs.length);
      const extra: Tensor[] = [];
      sources.length = 0;
      for (const position of folded) {
        const factor = products[position];
        if (!factor) throw new GraphError("grad", "Scan", "the same gradient body twice", "a different one");
        for (const tensor of factor) {
          const input = stepInputs.indexOf(tensor);
          const output = dxOut.indexOf(tensor);
          if (input >= 0) sources.push({ kind: "input", index: input });
          else if (output >= 0) sources.push({ kind: "ys", index: output });
          else {
            sources.push({ kind: "ys", index: dxOut.length + extra.length });
            extra.push(tensor);
          }
        }
      }
      return { carry: [...rebuilt.slice(0, nextCarry.length), ...sums], ys: [...dxOut, ...extra] };
    };
  const scanned = [...savedCarries, ...xs, ...dYs];
  const kept = readResiduals(
    step(
      residuals.map((_, r) => r),
      [],
    ),
    [...carryInit, ...captureInit([])],
    [...scanned, ...savedResiduals],
    scanned.length,
    axis,
  );
  // Captures whose per-step gradient is a product `Aᵀ·G` (a weight's, through MatMul) are summed
  // over the steps after the loop, as one product with the steps folded into the contraction: no
  // running sum the size of the weight is added to at every step.
  const folded = captureIndices.flatMap((_, position) => (products[position] ? [position] : []));
  const backward = scan(
    step(kept, folded),
    [...carryInit, ...captureInit(folded)],
    [...scanned, ...kept.map((r) => savedResiduals[r] as Tensor)],
    { axis, reverse: !reverse },
  );
  const captureResults = new Map<number, Tensor>();
  const summed = captureIndices.flatMap((_, position) => (folded.includes(position) ? [] : [position]));
  for (const [index, position] of summed.entries())
    captureResults.set(position, backward.carry[carryIndices.length + index] as Tensor);
  const stackedInputs = [...scanned, ...kept.map((r) => savedResiduals[r] as Tensor)];
  const stackedOf = ({ kind, index }: FactorSource) =>
    (kind === "input" ? stackedInputs[index] : backward.ys[index]) as Tensor;
  for (const [index, position] of folded.entries()) {
    const a = stackedOf(sources[2 * index] as FactorSource);
    const g = stackedOf(sources[2 * index + 1] as FactorSource);
    captureResults.set(position, foldSteps(a, g, axis));
  }
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
    result[nc + nx + k] = captureResults.get(position) ?? null;
  return result;
}

/**
 * `[A, G]` when `g` is `Aᵀ·G` over the last two axes (MatMul of a Transpose that swaps them) with
 * static contracted-out dims, else null.
 */
function transposedProduct(g: Tensor): readonly [Tensor, Tensor] | null {
  const product = producer(g);
  if (product?.op !== "MatMul") return null;
  const [left, right] = product.inputs as [Tensor, Tensor];
  const swap = producer(left);
  if (swap?.op !== "Transpose" || !Array.isArray(swap.attrs)) return null;
  const a = swap.inputs[0] as Tensor;
  const rank = a.rank;
  const swapsLast = swap.attrs.every((axis, index) =>
    index < rank - 2 ? axis === index : axis === (index === rank - 2 ? rank - 1 : rank - 2),
  );
  const k = a.shape[rank - 1];
  const n = right.shape[right.rank - 1];
  if (!swapsLast || rank < 2 || right.rank !== rank || typeof k !== "number" || typeof n !== "number")
    return null;
  return [a, right];
}

/**
 * `Σ_t A_tᵀ·G_t` from `A` and `G` stacked on `axis`: the steps are moved next to the rows and
 * folded into them, `[…, steps·M, K]ᵀ·[…, steps·M, N]`, one product.
 */
function foldSteps(a: Tensor, g: Tensor, axis: number): Tensor {
  const rank = a.rank; // the per-step rank plus the steps axis
  const perStep = Array.from({ length: rank }, (_, index) => index).filter((index) => index !== axis);
  const perm = [...perStep.slice(0, -2), axis, ...perStep.slice(-2)];
  const identity = perm.every((value, index) => value === index);
  const fold = (x: Tensor) => {
    const moved = identity ? x : transpose(x, perm);
    const last = x.shape[rank - 1] as number;
    return reshape(moved, [...perm.slice(0, -3).map(() => 0), -1, last]);
  };
  return matmul(transposeLast(fold(a)), fold(g));
}

/**
 * `outputs` rebuilt with the values in `saved` standing for the tensors they key: nodes that read a
 * substituted value (directly or through another rebuilt node) are applied again to the new
 * inputs, and nodes whose outputs are all substituted drop out.
 */
function substitute(outputs: readonly Tensor[], saved: ReadonlyMap<Tensor, Tensor>): Tensor[] {
  const rebuilt = new Map<Tensor, Tensor>(saved);
  const resolve = (tensor: Tensor) => rebuilt.get(tensor) ?? tensor;
  for (const node of ancestors(outputs)) {
    if (node.outputs.every((output) => rebuilt.has(output))) continue;
    const inputs = node.inputs.map(resolve);
    if (inputs.every((tensor, index) => tensor === node.inputs[index])) continue;
    const results = node.replay(inputs);
    for (const [index, output] of node.outputs.entries())
      if (!rebuilt.has(output)) rebuilt.set(output, results[index] as Tensor);
  }
  return outputs.map(resolve);
}

/**
 * Which of the scanned inputs from `first` on (the residuals) a body reads: builds the body once in
 * a probe graph that nothing refers to, with every residual available, and keeps those its outputs
 * depend on (the values it would otherwise compute again every step).
 */
function readResiduals(
  body: (state: readonly Tensor[], stepInputs: readonly Tensor[]) => ScanStep,
  init: readonly Tensor[],
  xs: readonly Tensor[],
  first: number,
  axis: number,
): number[] {
  const outer = (xs[0] ?? init[0]) as Tensor;
  const probe = new Graph(outer.graph);
  const name = (kind: string, index: number) => `probe${probe.nextId()}_${kind}${index}`;
  const state = init.map((tensor, index) => probe.input(name("carry", index), tensor.dtype, tensor.shape));
  const stepInputs = xs.map((x, index) =>
    probe.input(
      name("x", index),
      x.dtype,
      x.shape.filter((_, a) => a !== axis),
    ),
  );
  const result = body(state, stepInputs);
  const outputs = [...result.carry, ...result.ys];
  const read = new Set<Tensor>(outputs);
  for (const node of ancestors(outputs)) for (const input of node.inputs) read.add(input);
  return stepInputs.slice(first).flatMap((tensor, r) => (read.has(tensor) ? [r] : []));
}
