import { isFloat } from "./dtype.js";
import { cast, div, equal, mul, scalarLike } from "./elementwise.js";
import { GraphError } from "./errors.js";
import { apply1, type Dim, type Primitive, type Shape, staticSize, type Tensor } from "./graph.js";
import { broadcastShapes, formatShape, normaliseAxis } from "./shape.js";

const at = (list: readonly (Tensor | null)[], index: number): Tensor => list[index] as Tensor;

const MatMul: Primitive<null> = {
  name: "MatMul",
  infer: ([a, b]) => {
    const x = a as Tensor;
    const y = b as Tensor;
    if (x.rank < 2 || y.rank < 2) {
      throw new GraphError(
        "matmul",
        "operands",
        "tensors of rank >= 2",
        `${formatShape(x.shape)} and ${formatShape(y.shape)}`,
      );
    }
    if (x.dtype !== y.dtype)
      throw new GraphError("matmul", "dtypes", "equal dtypes", `${x.dtype} and ${y.dtype}`);
    const k1 = x.shape[x.rank - 1] as Dim;
    const k2 = y.shape[y.rank - 2] as Dim;
    if (typeof k1 === "number" && typeof k2 === "number" && k1 !== k2) {
      throw new GraphError(
        "matmul",
        "inner dims",
        "equal",
        `${formatShape(x.shape)} and ${formatShape(y.shape)}`,
      );
    }
    const batch = broadcastShapes("matmul", x.shape.slice(0, -2), y.shape.slice(0, -2));
    return [{ dtype: x.dtype, shape: [...batch, x.shape[x.rank - 2] as Dim, y.shape[y.rank - 1] as Dim] }];
  },
  emit: (context, inputs, outputs) => context.node("MatMul", inputs, outputs),
  // dA = dY·Bᵀ, dB = Aᵀ·dY; batch broadcasting is undone by the engine.
  vjp: ({ dy, inputs: [a, b], needs }) => [
    needs[0] ? matmul(at(dy, 0), transposeLast(b as Tensor)) : null,
    needs[1] ? weightGrad(a as Tensor, b as Tensor, at(dy, 0)) : null,
  ],
};

/**
 * `Aᵀ·dY` for `B`. When a batched `A` meets a matrix `B` (a layer's weight applied at every
 * position), the batch is folded into the contraction: one `[K, batch·M]·[batch·M, N]` product,
 * instead of a `[batch, K, N]` stack of products that the engine would then sum away.
 */
function weightGrad(a: Tensor, b: Tensor, dy: Tensor): Tensor {
  const k = a.shape[a.rank - 1];
  const n = dy.shape[dy.rank - 1];
  if (b.rank !== 2 || a.rank <= 2 || typeof k !== "number" || typeof n !== "number")
    return matmul(transposeLast(a), dy);
  return matmul(transposeLast(reshape(a, [-1, k])), reshape(dy, [-1, n])); // shape: [K, N]
}

interface ReduceAttrs {
  readonly axes: readonly number[];
  readonly keepdims: boolean;
}

function reduceInfer(name: string) {
  return ([x]: readonly Tensor[], { axes, keepdims }: ReduceAttrs) => {
    const input = x as Tensor;
    const shape: Dim[] = [];
    for (const [index, dim] of input.shape.entries()) {
      if (!axes.includes(index)) shape.push(dim);
      else if (keepdims) shape.push(1);
    }
    if (!isFloat(input.dtype) && name === "ReduceMax")
      throw new GraphError("reduceMax", "x", "a float tensor", input.dtype);
    return [{ dtype: input.dtype, shape }];
  };
}

function reduceEmit(name: string): Primitive<ReduceAttrs>["emit"] {
  return (context, [x], outputs, { axes, keepdims }) =>
    context.node(name, [x as string, context.int64(axes)], outputs, { keepdims: { int: keepdims ? 1 : 0 } });
}

/** `dy` of a reduction, given its attributes, brought back to rank with size-1 reduced axes. */
const keep = (dy: Tensor, { axes, keepdims }: ReduceAttrs): Tensor => (keepdims ? dy : unsqueeze(dy, axes));

const ReduceSum: Primitive<ReduceAttrs> = {
  name: "ReduceSum",
  infer: reduceInfer("ReduceSum"),
  emit: reduceEmit("ReduceSum"),
  vjp: ({ dy, inputs: [x], attrs }) => [broadcastTo(keep(at(dy, 0), attrs), x as Tensor)],
};

// Ties share the gradient equally.
const ReduceMax: Primitive<ReduceAttrs> = {
  name: "ReduceMax",
  infer: reduceInfer("ReduceMax"),
  emit: reduceEmit("ReduceMax"),
  vjp: ({ dy, inputs: [x], outputs: [y], attrs }) => {
    const input = x as Tensor;
    const mask = cast(equal(input, keep(y as Tensor, attrs)), input.dtype);
    const count = reduceSum(mask, attrs.axes, true);
    return [mul(mask, div(keep(at(dy, 0), attrs), count))];
  },
};

/** @internal Target dims are carried for shape inference; the runtime shape is an input. */
export interface DimsAttrs {
  readonly dims: Shape;
}

const Reshape: Primitive<DimsAttrs> = {
  name: "Reshape",
  infer: ([x], { dims }) => [{ dtype: (x as Tensor).dtype, shape: dims }],
  emit: (context, inputs, outputs) => context.node("Reshape", inputs, outputs),
  vjp: ({ dy, inputs: [x] }) => [reshapeTo(at(dy, 0), shapeOf(x as Tensor), (x as Tensor).shape), null],
};

const Expand: Primitive<DimsAttrs> = {
  name: "Expand",
  infer: ([x], { dims }) => [{ dtype: (x as Tensor).dtype, shape: dims }],
  emit: (context, inputs, outputs) => context.node("Expand", inputs, outputs),
  vjp: ({ dy }) => [at(dy, 0), null],
};

const Shape_: Primitive<null> = {
  name: "Shape",
  infer: ([x]) => [{ dtype: "int64", shape: [(x as Tensor).rank] }],
  emit: (context, inputs, outputs) => context.node("Shape", inputs, outputs),
};

const Transpose: Primitive<readonly number[]> = {
  name: "Transpose",
  infer: ([x], perm) => {
    const input = x as Tensor;
    const sorted = [...perm].sort((p, q) => p - q);
    if (perm.length !== input.rank || sorted.some((axis, index) => axis !== index)) {
      throw new GraphError(
        "transpose",
        "perm",
        `a permutation of 0..${input.rank - 1}`,
        `[${perm.join(",")}]`,
      );
    }
    return [{ dtype: input.dtype, shape: perm.map((axis) => input.shape[axis] as Dim) }];
  },
  emit: (context, inputs, outputs, perm) =>
    context.node("Transpose", inputs, outputs, { perm: { ints: perm } }),
  vjp: ({ dy, attrs: perm }) => {
    const inverse = perm.map((_, index) => perm.indexOf(index));
    return [transpose(at(dy, 0), inverse)];
  },
};

const Unsqueeze: Primitive<readonly number[]> = {
  name: "Unsqueeze",
  infer: ([x], axes) => {
    const input = x as Tensor;
    const shape: Dim[] = [...input.shape];
    for (const axis of [...axes].sort((p, q) => p - q)) shape.splice(axis, 0, 1);
    return [{ dtype: input.dtype, shape }];
  },
  emit: (context, [x], outputs, axes) =>
    context.node("Unsqueeze", [x as string, context.int64(axes)], outputs),
  vjp: ({ dy, attrs: axes }) => [squeeze(at(dy, 0), axes)],
};

const Squeeze: Primitive<readonly number[]> = {
  name: "Squeeze",
  infer: ([x], axes) => {
    const input = x as Tensor;
    for (const axis of axes) {
      const dim = input.shape[axis];
      if (dim !== 1) throw new GraphError("squeeze", `axes (${axis})`, "an axis of size 1", `size ${dim}`);
    }
    return [{ dtype: input.dtype, shape: input.shape.filter((_, index) => !axes.includes(index)) }];
  },
  emit: (context, [x], outputs, axes) => context.node("Squeeze", [x as string, context.int64(axes)], outputs),
  vjp: ({ dy, attrs: axes }) => [unsqueeze(at(dy, 0), axes)],
};

/** @internal A constant int64 vector in `like`'s graph. */
export function constInt64(like: Tensor, values: readonly number[]): Tensor {
  return like.graph.constant(
    BigInt64Array.from(values, (value) => BigInt(value)),
    [values.length],
  );
}

/** Matrix product with numpy batch broadcasting; both operands need rank >= 2. */
export const matmul = (a: Tensor, b: Tensor): Tensor => apply1(MatMul, [a, b], null);

/** Swaps the last two axes. */
export function transposeLast(x: Tensor): Tensor {
  const perm = x.shape.map((_, index) => index);
  perm.splice(-2, 2, x.rank - 1, x.rank - 2);
  return transpose(x, perm);
}

function normaliseAxes(fn: string, axes: readonly number[] | undefined, rank: number): number[] {
  const list = axes ?? Array.from({ length: rank }, (_, index) => index);
  const normalised = [...new Set(list.map((axis) => normaliseAxis(fn, axis, rank)))].sort((p, q) => p - q);
  if (normalised.length !== list.length)
    throw new GraphError(fn, "axes", "distinct axes", `[${list.join(",")}]`);
  return normalised;
}

/** Sum over `axes` (all axes when omitted). */
export function reduceSum(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  const normalised = normaliseAxes("reduceSum", axes, x.rank);
  if (normalised.length === 0) return x;
  return apply1(ReduceSum, [x], { axes: normalised, keepdims });
}

/** Maximum over `axes` (all axes when omitted). */
export function reduceMax(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  const normalised = normaliseAxes("reduceMax", axes, x.rank);
  if (normalised.length === 0) return x;
  return apply1(ReduceMax, [x], { axes: normalised, keepdims });
}

/** The runtime shape of `x` as an int64 vector. */
export const shapeOf = (x: Tensor): Tensor => apply1(Shape_, [x], null);

/** @internal Reshape to a runtime shape whose static dims are known. */
export const reshapeTo = (x: Tensor, shape: Tensor, dims: Shape): Tensor =>
  apply1(Reshape, [x, shape], { dims });

/** The name of an inferred dim: `batch*5` when the numbers divide, a description otherwise. */
function inferSymbolic(
  remaining: readonly Dim[],
  known: number | null,
  x: Tensor,
  target: readonly number[],
): Dim {
  const symbols = remaining.filter((dim) => typeof dim === "string");
  const numeric = staticSize(remaining.filter((dim) => typeof dim === "number")) ?? 1;
  if (known !== null && known > 0 && numeric % known === 0) {
    const factor = numeric / known;
    return [...symbols, ...(factor === 1 ? [] : [factor])].join("*");
  }
  return `${x.shape.join("*")}/${target.join("*")}`;
}

/**
 * Reshape with ONNX semantics: a target entry 0 copies that input dim, -1 is inferred.
 */
export function reshape(x: Tensor, target: readonly number[]): Tensor {
  const dims: Dim[] = [];
  let inferred = -1;
  for (const [index, entry] of target.entries()) {
    if (!Number.isInteger(entry) || entry < -1)
      throw new GraphError("reshape", `target[${index}]`, "an integer >= -1", String(entry));
    if (entry === -1) {
      if (inferred >= 0) throw new GraphError("reshape", "target", "at most one -1", `[${target.join(",")}]`);
      inferred = index;
      dims.push(-1);
    } else if (entry === 0) {
      const dim = x.shape[index];
      if (dim === undefined)
        throw new GraphError("reshape", `target[${index}]`, `a 0 only within rank ${x.rank}`, "0");
      dims.push(dim);
    } else dims.push(entry);
  }
  if (inferred >= 0) {
    // Symbolic dims copied with 0 cancel out of the input's size: [batch, 5, 32] to [0, -1] is [batch, 160].
    const remaining = [...x.shape];
    const kept = dims.filter((dim, index) => {
      if (index === inferred) return false;
      if (target[index] === 0 && typeof dim === "string") {
        const at = remaining.indexOf(dim);
        if (at >= 0) remaining.splice(at, 1);
        return at < 0;
      }
      return true;
    });
    const known = staticSize(kept);
    const total = staticSize(remaining);
    if (known !== null && total !== null && (known === 0 || total % known !== 0)) {
      throw new GraphError("reshape", "target", `a shape with ${total} elements`, `[${target.join(",")}]`);
    }
    dims[inferred] =
      known !== null && total !== null ? total / known : inferSymbolic(remaining, known, x, target);
  }
  const total = staticSize(x.shape);
  const size = staticSize(dims);
  if (total !== null && size !== null && total !== size) {
    throw new GraphError("reshape", "target", `${total} elements`, `[${target.join(",")}] (${size})`);
  }
  return reshapeTo(x, constInt64(x, target), dims);
}

/** Broadcasts `x` to the runtime shape `shape` (int64 vector) whose static dims are `dims`. */
export function broadcastTo(x: Tensor, shape: Tensor, dims?: Shape): Tensor;
/** Broadcasts `x` to the shape of `like`. */
export function broadcastTo(x: Tensor, like: Tensor): Tensor;
export function broadcastTo(x: Tensor, target: Tensor, dims?: Shape): Tensor {
  if (dims) return apply1(Expand, [x, target], { dims: broadcastShapes("broadcastTo", x.shape, dims) });
  return apply1(Expand, [x, shapeOf(target)], {
    dims: broadcastShapes("broadcastTo", x.shape, target.shape),
  });
}

/** Zeros with the dtype and runtime shape of `x`. */
export function zerosLike(x: Tensor): Tensor {
  return broadcastTo(scalarLike(0, x), x);
}

/** Ones with the dtype and runtime shape of `x`. */
export function onesLike(x: Tensor): Tensor {
  return broadcastTo(scalarLike(1, x), x);
}

/** Permutes axes. */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  return apply1(Transpose, [x], perm);
}

/** Inserts size-1 axes at `axes` (positions in the output). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const normalised = normaliseAxes("unsqueeze", axes, x.rank + axes.length);
  return apply1(Unsqueeze, [x], normalised);
}

/** Removes size-1 axes. */
export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  return apply1(Squeeze, [x], normaliseAxes("squeeze", axes, x.rank));
}
