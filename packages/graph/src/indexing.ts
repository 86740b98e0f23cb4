import { add, sub } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { apply, apply1, type Dim, type Primitive, type Shape, type Tensor } from "./graph.js";
import { addDims, formatShape, normaliseAxis } from "./shape.js";
import { constInt64, type DimsAttrs, shapeOf, zerosLike } from "./structural.js";

const at = (list: readonly (Tensor | null)[], index: number): Tensor => list[index] as Tensor;

// Inputs: x, starts, ends, axes (int64 vectors); steps are 1.
const Slice: Primitive<DimsAttrs> = {
  name: "Slice",
  infer: ([x], { dims }) => [{ dtype: (x as Tensor).dtype, shape: dims }],
  emit: (context, inputs, outputs) => context.node("Slice", inputs, outputs),
  vjp: ({ dy, inputs: [x, starts, , axes] }) => {
    // Pad dy back with zeros: before = starts on the sliced axes, after = the rest of each axis.
    const input = x as Tensor;
    const g = at(dy, 0);
    const fixed = staticPads(input, g, starts as Tensor, axes as Tensor);
    if (fixed) return [pad(g, constInt64(input, fixed), input.shape), null, null, null];
    const zeros = constInt64(
      input,
      input.shape.map(() => 0),
    );
    // A slice's axes are distinct, so no two updates meet: the single-node ScatterND form.
    const before = scatterAdd(zeros, axes as Tensor, starts as Tensor, { unique: true });
    const after = sub(sub(shapeOf(input), shapeOf(g)), before);
    return [pad(g, concat([before, after], 0), input.shape), null, null, null];
  },
};

/** The values of a constant int64 vector, or null when it is computed at run time. */
function constantValues(tensor: Tensor): number[] | null {
  const source = tensor.source;
  if (source.kind !== "constant" || !(source.data instanceof BigInt64Array)) return null;
  return Array.from(source.data, Number);
}

/**
 * The pads that undo a Slice when they are known while building: constant starts and axes, and
 * static sizes of the sliced axes. A Pad by constant pads keeps its output shape inferable and
 * costs no shape arithmetic at run time (inside a Scan body, that arithmetic would run every step).
 */
function staticPads(input: Tensor, dy: Tensor, starts: Tensor, axes: Tensor): number[] | null {
  const first = constantValues(starts);
  const sliced = constantValues(axes);
  if (!first || !sliced) return null;
  const pads = new Array<number>(2 * input.rank).fill(0);
  for (const [index, axis] of sliced.entries()) {
    const a = axis < 0 ? axis + input.rank : axis;
    const whole = input.shape[a];
    const part = dy.shape[a];
    const start = first[index] as number;
    if (typeof whole !== "number" || typeof part !== "number" || start < 0) return null;
    pads[a] = start;
    pads[input.rank + a] = whole - part - start;
  }
  return pads;
}

// Inputs: x, pads (int64 [2·rank]); zero padding.
const Pad: Primitive<DimsAttrs> = {
  name: "Pad",
  infer: ([x], { dims }) => [{ dtype: (x as Tensor).dtype, shape: dims }],
  emit: (context, inputs, outputs) => context.node("Pad", inputs, outputs, { mode: { string: "constant" } }),
  vjp: ({ dy, inputs: [x, pads] }) => {
    const input = x as Tensor;
    const axes = input.shape.map((_, index) => index);
    const starts = sliceRuntime(
      pads as Tensor,
      constInt64(input, [0]),
      constInt64(input, [input.rank]),
      constInt64(input, [0]),
      [input.rank],
    );
    const ends = add(starts, shapeOf(input));
    return [sliceRuntime(at(dy, 0), starts, ends, constInt64(input, axes), input.shape), null];
  },
};

const Concat: Primitive<number> = {
  name: "Concat",
  infer: (inputs, axis) => {
    const head = inputs[0] as Tensor;
    for (const tensor of inputs) {
      if (tensor.rank !== head.rank || tensor.dtype !== head.dtype) {
        throw new GraphError(
          "concat",
          "tensors",
          `${head.dtype} tensors of rank ${head.rank}`,
          `${tensor.dtype} ${formatShape(tensor.shape)}`,
        );
      }
    }
    const shape: Dim[] = [...head.shape];
    shape[axis] = addDims(inputs.map((tensor) => tensor.shape[axis] as Dim));
    return [{ dtype: head.dtype, shape }];
  },
  emit: (context, inputs, outputs, axis) => context.node("Concat", inputs, outputs, { axis: { int: axis } }),
  vjp: ({ dy, inputs, attrs: axis }) => {
    const parts = inputs.map((tensor) => tensor.shape);
    const widths = inputs.flatMap((tensor) => {
      const width = tensor.shape[axis];
      return typeof width === "number" ? [width] : [];
    });
    // Static widths split by a constant: inferable shapes and no shape arithmetic at run time.
    if (widths.length === inputs.length) return split(at(dy, 0), constInt64(at(dy, 0), widths), axis, parts);
    const sizes = concat(
      inputs.map((tensor) =>
        sliceRuntime(
          shapeOf(tensor),
          constInt64(tensor, [axis]),
          constInt64(tensor, [axis + 1]),
          constInt64(tensor, [0]),
          [1],
        ),
      ),
      0,
    );
    return split(at(dy, 0), sizes, axis, parts);
  },
};

interface SplitAttrs {
  readonly axis: number;
  readonly parts: readonly Shape[];
}

// Inputs: x, split sizes (int64 vector).
const Split: Primitive<SplitAttrs> = {
  name: "Split",
  infer: ([x], { parts }) => parts.map((shape) => ({ dtype: (x as Tensor).dtype, shape })),
  emit: (context, inputs, outputs, { axis }) =>
    context.node("Split", inputs, outputs, { axis: { int: axis } }),
  vjp: ({ dy, outputs, attrs: { axis } }) => [
    concat(
      outputs.map((output, index) => dy[index] ?? zerosLike(output)),
      axis,
    ),
    null,
  ],
};

// Gather along axis 0; indices int64 of any shape.
const Gather: Primitive<{ readonly unique: boolean }> = {
  name: "Gather",
  infer: ([x, indices]) => {
    const input = x as Tensor;
    const index = indices as Tensor;
    if (index.dtype !== "int64") throw new GraphError("gather", "indices", "an int64 tensor", index.dtype);
    if (input.rank < 1) throw new GraphError("gather", "x", "a tensor of rank >= 1", "a scalar");
    return [{ dtype: input.dtype, shape: [...index.shape, ...input.shape.slice(1)] }];
  },
  emit: (context, inputs, outputs) => context.node("Gather", inputs, outputs, { axis: { int: 0 } }),
  vjp: ({ dy, inputs: [x, indices], attrs }) => [
    scatterAdd(zerosLike(x as Tensor), indices as Tensor, at(dy, 0), { unique: attrs.unique }),
    null,
  ],
};

// data[indices[i]] += updates[i] along axis 0 (duplicates accumulate): the transpose of Gather.
// `unique`: the indices are known to be distinct (or there is at most one).
const ScatterAdd: Primitive<{
  readonly unique: boolean;
  /** `data`'s and `updates`' shapes when every dimension is static, so the views are constants. */
  readonly dims: { readonly data: readonly number[]; readonly updates: readonly number[] } | null;
}> = {
  name: "ScatterAdd",
  infer: ([data, indices, updates]) => {
    const d = data as Tensor;
    const u = updates as Tensor;
    if ((indices as Tensor).dtype !== "int64")
      throw new GraphError("scatterAdd", "indices", "an int64 tensor", (indices as Tensor).dtype);
    if (d.dtype !== u.dtype) throw new GraphError("scatterAdd", "updates", `dtype ${d.dtype}`, u.dtype);
    return [{ dtype: d.dtype, shape: d.shape }];
  },
  // ScatterElements on [rows, row size] views, not ScatterND: ORT's CPU ScatterND with
  // reduction="add" spreads the updates over its threads without guarding the rows they share, so
  // with more than one intra-op thread repeated indices lose updates (measured with onnxruntime-node
  // 1.30: 1,024 unit rows into 128 rows summed to 226,860 of 262,144 on 2 threads).
  emit: (context, [data, indices, updates], outputs, { unique, dims }) => {
    if (unique) {
      // No two updates share a row, so ScatterND's threads cannot race: one node instead of the
      // dozen below, which matters inside Scan bodies (slice gradients at a run-time step).
      const expanded = context.fresh("indices");
      context.node("Unsqueeze", [indices as string, context.int64([-1])], [expanded]);
      context.node("ScatterND", [data as string, expanded, updates as string], outputs, {
        reduction: { string: "add" },
      });
      return;
    }
    if (dims) {
      // Static shapes: constant views, which ORT's shape inference and planner see through.
      const rows = dims.data[0] ?? 1;
      const width = dims.data.slice(1).reduce((a, b) => a * b, 1);
      const count = dims.updates.reduce((a, b) => a * b, 1) / width;
      const table = context.fresh("table");
      const values = context.fresh("values");
      const column = context.fresh("column");
      const positions = context.fresh("positions");
      const scattered = context.fresh("scattered");
      context.node("Reshape", [data as string, context.int64([rows, width])], [table]);
      context.node("Reshape", [updates as string, context.int64([count, width])], [values]);
      context.node("Reshape", [indices as string, context.int64([count, 1])], [column]);
      context.node("Expand", [column, context.int64([count, width])], [positions]);
      context.node("ScatterElements", [table, positions, values], [scattered], {
        axis: { int: 0 },
        reduction: { string: "add" },
      });
      context.node("Reshape", [scattered, context.int64([...dims.data])], outputs);
      return;
    }
    const shape = context.fresh("shape");
    const rows = context.fresh("rows");
    const width = context.fresh("width");
    const flat = context.fresh("flat_shape");
    const rowsShape = context.fresh("rows_shape");
    const table = context.fresh("table");
    const values = context.fresh("values");
    const column = context.fresh("column");
    const positions = context.fresh("positions");
    const scattered = context.fresh("scattered");
    context.node("Shape", [data as string], [shape]);
    context.node("Slice", [shape, context.int64([0]), context.int64([1])], [rows]);
    context.node("Slice", [shape, context.int64([1]), context.int64([Number.MAX_SAFE_INTEGER])], [width]);
    context.node("ReduceProd", [width, context.int64([0])], [flat], { keepdims: { int: 1 } });
    context.node("Concat", [rows, flat], [rowsShape], { axis: { int: 0 } });
    context.node("Reshape", [data as string, rowsShape], [table]);
    const valuesShape = context.fresh("values_shape");
    context.node("Concat", [context.int64([-1]), flat], [valuesShape], { axis: { int: 0 } });
    context.node("Reshape", [updates as string, valuesShape], [values]);
    context.node("Reshape", [indices as string, context.int64([-1, 1])], [column]);
    const valuesDims = context.fresh("values_dims");
    context.node("Shape", [values], [valuesDims]);
    context.node("Expand", [column, valuesDims], [positions]);
    context.node("ScatterElements", [table, positions, values], [scattered], {
      axis: { int: 0 },
      reduction: { string: "add" },
    });
    context.node("Reshape", [scattered, shape], outputs);
  },
  vjp: ({ dy, inputs: [, indices], needs }) => [
    at(dy, 0),
    null,
    needs[2] ? gather(at(dy, 0), indices as Tensor) : null,
  ],
};

function sliceRuntime(x: Tensor, starts: Tensor, ends: Tensor, axes: Tensor, dims: Shape): Tensor {
  return apply1(Slice, [x, starts, ends, axes], { dims });
}

/**
 * `x[start:end]` along `axis` (step 1); `end` defaults to the end, negative values count from it.
 * On a symbolic axis `start` must be >= 0 and a non-negative `end` is taken to lie inside the axis.
 */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normaliseAxis("slice", axis, x.rank);
  const dim = x.shape[a] as Dim;
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new GraphError("slice", "start/end", "integers", `${start}/${end}`);
  }
  let size: Dim;
  let first = start;
  if (typeof dim === "number") {
    const clamp = (value: number) => Math.min(Math.max(value < 0 ? value + dim : value, 0), dim);
    first = clamp(start);
    size = Math.max(0, clamp(end ?? dim) - first);
  } else if (start < 0) {
    throw new GraphError("slice", "start", `a start >= 0 on the symbolic axis ${dim}`, String(start));
  } else {
    // Equal sizes get equal names: x[1:] and x[:-1] of a `steps` axis are both `steps-1`; a
    // non-negative end on a symbolic axis is assumed to lie inside it.
    if (end !== undefined && end >= 0) size = Math.max(0, end - start);
    else {
      const shrink = end === undefined ? start : start - end;
      size = shrink === 0 ? dim : `${dim}-${shrink}`;
    }
  }
  const dims: Dim[] = [...x.shape];
  dims[a] = size;
  const endValue = end ?? Number.MAX_SAFE_INTEGER;
  return sliceRuntime(x, constInt64(x, [first]), constInt64(x, [endValue]), constInt64(x, [a]), dims);
}

/** Zero padding by a runtime int64 vector `[begin_0, …, begin_r, end_0, …, end_r]`. */
export function pad(x: Tensor, pads: Tensor, dims: Shape): Tensor {
  return apply1(Pad, [x, pads], { dims });
}

/** Joins tensors along `axis`. */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  const head = tensors[0];
  if (!head) throw new GraphError("concat", "tensors", "at least one tensor", "none");
  if (tensors.length === 1) return head;
  return apply1(Concat, tensors, normaliseAxis("concat", axis, head.rank));
}

/** Splits along `axis` into parts of runtime sizes `sizes` (int64 vector) with static shapes `parts`. */
export function split(x: Tensor, sizes: Tensor, axis: number, parts: readonly Shape[]): readonly Tensor[] {
  return apply(Split, [x, sizes], { axis: normaliseAxis("split", axis, x.rank), parts });
}

/**
 * Rows of `x` (axis 0) picked by int64 `indices` of any shape: `[...indices.shape, ...x.shape[1:]]`.
 * `unique` promises that no row is picked twice (a permutation, say), so the gradient can use ORT's
 * fast ScatterND (see {@link scatterAdd}): on a [2560, 512] permutation gradient ScatterElements took
 * 25 ms a step of the BiLSTM benchmark.
 */
export const gather = (x: Tensor, indices: Tensor, options: { readonly unique?: boolean } = {}): Tensor =>
  apply1(Gather, [x, indices], { unique: options.unique === true });

/**
 * `data` with `updates` added at rows `indices` (axis 0); repeated indices accumulate, exactly on
 * any number of threads. `unique` promises distinct indices (as at most one index always is) and
 * emits ORT's single ScatterND, which races on repeated indices with more than one thread.
 */
export const scatterAdd = (
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  options: { readonly unique?: boolean } = {},
): Tensor =>
  apply1(ScatterAdd, [data, indices, updates], {
    unique: options.unique === true || indices.shape.every((dim) => typeof dim === "number" && dim <= 1),
    dims: staticDims(data, updates),
  });

function staticDims(data: Tensor, updates: Tensor) {
  const numbers = (shape: readonly Dim[]) =>
    shape.every((dim): dim is number => typeof dim === "number") ? shape : null;
  const d = numbers(data.shape);
  const u = numbers(updates.shape);
  return d && u && d.length >= 1 ? { data: d, updates: u } : null;
}
