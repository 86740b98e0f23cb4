import { type DType, isFloat, ONNX_DTYPE, type TensorData } from "./dtype.js";
import { GraphError } from "./errors.js";
import { apply1, type Primitive, Tensor, type TensorType } from "./graph.js";
import { broadcastShapes } from "./shape.js";

/** A tensor, or a plain number taken as a scalar of the other operand's dtype. */
export type Operand = Tensor | number;

/** A scalar constant of `dtype` in `like`'s graph. */
export function scalarLike(value: number, like: Tensor, dtype: DType = like.dtype): Tensor {
  return like.graph.constant(scalarData(value, dtype), []);
}

function scalarData(value: number, dtype: DType): TensorData {
  switch (dtype) {
    case "float32":
      return Float32Array.of(value);
    case "float64":
      return Float64Array.of(value);
    case "int64":
      return BigInt64Array.of(BigInt(value));
    case "int32":
      return Int32Array.of(value);
    case "bool":
      return Uint8Array.of(value ? 1 : 0);
  }
}

function lift(fn: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor) return [a, b];
  if (a instanceof Tensor) return [a, scalarLike(Number(b), a)];
  if (b instanceof Tensor) return [scalarLike(a, b), b];
  throw new GraphError(fn, "operands", "at least one tensor", "two numbers");
}

function sameDtype(fn: string, inputs: readonly Tensor[]): DType {
  const [first, ...rest] = inputs;
  if (!first) throw new GraphError(fn, "inputs", "tensors", "none");
  for (const tensor of rest) {
    if (tensor.dtype !== first.dtype)
      throw new GraphError(fn, "dtypes", "equal dtypes", `${first.dtype} and ${tensor.dtype}`);
  }
  return first.dtype;
}

function requireFloat(fn: string, x: Tensor): void {
  if (!isFloat(x.dtype)) throw new GraphError(fn, "x", "a float32 or float64 tensor", x.dtype);
}

type Vjp = NonNullable<Primitive<null>["vjp"]>;

/** A broadcasting binary primitive; `result` maps the common dtype to the output dtype. */
function binary(
  name: string,
  vjp?: Vjp,
  result: (dtype: DType) => DType = (dtype) => dtype,
): Primitive<null> {
  return {
    name,
    infer: (inputs) => {
      const [a, b] = inputs as [Tensor, Tensor];
      const dtype = sameDtype(name, inputs);
      return [{ dtype: result(dtype), shape: broadcastShapes(name, a.shape, b.shape) }];
    },
    emit: (context, inputs, outputs) => context.node(name, inputs, outputs),
    ...(vjp ? { vjp } : {}),
  };
}

/** A float unary primitive. */
function unary(name: string, vjp: Vjp): Primitive<null> {
  return {
    name,
    infer: ([x]) => {
      const input = x as Tensor;
      requireFloat(name, input);
      return [{ dtype: input.dtype, shape: input.shape }];
    },
    emit: (context, inputs, outputs) => context.node(name, inputs, outputs),
    vjp,
  };
}

const first = (values: readonly (Tensor | null)[]): Tensor => values[0] as Tensor;

const Add = binary("Add", ({ dy }) => [first(dy), first(dy)]);
const Sub = binary("Sub", ({ dy }) => [first(dy), neg(first(dy))]);
const Mul = binary("Mul", ({ dy, inputs: [a, b], needs }) => [
  needs[0] ? mul(first(dy), b as Tensor) : null,
  needs[1] ? mul(first(dy), a as Tensor) : null,
]);
// d(a/b)/db = -(a/b)/b, reusing the saved output.
const Div = binary("Div", ({ dy, inputs: [, b], outputs: [out], needs }) => [
  needs[0] ? div(first(dy), b as Tensor) : null,
  needs[1] ? neg(div(mul(first(dy), out as Tensor), b as Tensor)) : null,
]);
const Less = binary("Less", undefined, () => "bool");
const Greater = binary("Greater", undefined, () => "bool");
const Equal = binary("Equal", undefined, () => "bool");
const And = binary("And", undefined, () => "bool");
const Or = binary("Or", undefined, () => "bool");

const Neg = unary("Neg", ({ dy }) => [neg(first(dy))]);
const Exp = unary("Exp", ({ dy, outputs: [y] }) => [mul(first(dy), y as Tensor)]);
const Log = unary("Log", ({ dy, inputs: [x] }) => [div(first(dy), x as Tensor)]);
const Sqrt = unary("Sqrt", ({ dy, outputs: [y] }) => [div(first(dy), mul(y as Tensor, 2))]);
// dσ/dx = σ·(1 − σ), from the saved output. One node, where the composite `(1 + tanh(x/2))/2` takes
// four (and eight more for its gradient): inside a Scan body every node is paid for at every step.
const Sigmoid = unary("Sigmoid", ({ dy, outputs: [y] }) => [
  mul(first(dy), mul(y as Tensor, sub(1, y as Tensor))),
]);
const Tanh = unary("Tanh", ({ dy, outputs: [y] }) => [mul(first(dy), sub(1, mul(y as Tensor, y as Tensor)))]);
// d erf(x)/dx = 2/sqrt(pi) · exp(-x²). ORT's CPU Erf is float32 only: float64 goes through float32.
const Erf: Primitive<DType> = {
  name: "Erf",
  infer: ([x]) => {
    requireFloat("Erf", x as Tensor);
    return [x as TensorType];
  },
  emit: (context, inputs, outputs, dtype) => {
    if (dtype === "float32") {
      context.node("Erf", inputs, outputs);
      return;
    }
    const narrow = context.fresh("erf");
    const result = context.fresh("erf");
    context.node("Cast", inputs, [narrow], { to: { int: ONNX_DTYPE.float32 } });
    context.node("Erf", [narrow], [result]);
    context.node("Cast", [result], outputs, { to: { int: ONNX_DTYPE.float64 } });
  },
  vjp: ({ dy, inputs: [x] }) => [
    mul(first(dy), mul(exp(neg(mul(x as Tensor, x as Tensor))), 2 / Math.sqrt(Math.PI))),
  ],
};

const Not: Primitive<null> = {
  name: "Not",
  infer: ([x]) => [{ dtype: "bool", shape: (x as Tensor).shape }],
  emit: (context, inputs, outputs) => context.node("Not", inputs, outputs),
};

const Where: Primitive<null> = {
  name: "Where",
  infer: ([condition, a, b]) => {
    const c = condition as Tensor;
    if (c.dtype !== "bool") throw new GraphError("where", "condition", "a bool tensor", c.dtype);
    const dtype = sameDtype("where", [a as Tensor, b as Tensor]);
    const shape = broadcastShapes(
      "where",
      broadcastShapes("where", c.shape, (a as Tensor).shape),
      (b as Tensor).shape,
    );
    return [{ dtype, shape }];
  },
  emit: (context, inputs, outputs) => context.node("Where", inputs, outputs),
  vjp: ({ dy, inputs: [condition], needs }) => [
    null,
    needs[1] ? where(condition as Tensor, first(dy), 0) : null,
    needs[2] ? where(condition as Tensor, 0, first(dy)) : null,
  ],
};

const Cast: Primitive<DType> = {
  name: "Cast",
  infer: ([x], to) => [{ dtype: to, shape: (x as Tensor).shape }],
  emit: (context, inputs, outputs, to) =>
    context.node("Cast", inputs, outputs, { to: { int: ONNX_DTYPE[to] } }),
  vjp: ({ dy, inputs: [x] }) => [isFloat((x as Tensor).dtype) ? cast(first(dy), (x as Tensor).dtype) : null],
};

const StopGradient: Primitive<null> = {
  name: "StopGradient",
  infer: ([x]) => [x as TensorType],
  emit: (context, inputs, outputs) => context.node("Identity", inputs, outputs),
  vjp: () => [null],
};

const RandomUniformLike: Primitive<{ seed: number }> = {
  name: "RandomUniformLike",
  infer: ([x]) => {
    requireFloat("randomUniformLike", x as Tensor);
    return [x as TensorType];
  },
  emit: (context, inputs, outputs, { seed }) =>
    context.node("RandomUniformLike", inputs, outputs, {
      low: { float: 0 },
      high: { float: 1 },
      seed: { float: seed },
    }),
  vjp: () => [null],
};

/** Elementwise `a + b` with broadcasting. */
export const add = (a: Operand, b: Operand): Tensor => apply1(Add, lift("add", a, b), null);
/** Elementwise `a - b` with broadcasting. */
export const sub = (a: Operand, b: Operand): Tensor => apply1(Sub, lift("sub", a, b), null);
/** Elementwise `a * b` with broadcasting. */
export const mul = (a: Operand, b: Operand): Tensor => apply1(Mul, lift("mul", a, b), null);
/** Elementwise `a / b` with broadcasting. */
export const div = (a: Operand, b: Operand): Tensor => apply1(Div, lift("div", a, b), null);
/** Elementwise `a < b` (bool). */
export const less = (a: Operand, b: Operand): Tensor => apply1(Less, lift("less", a, b), null);
/** Elementwise `a > b` (bool). */
export const greater = (a: Operand, b: Operand): Tensor => apply1(Greater, lift("greater", a, b), null);
/** Elementwise `a == b` (bool). */
export const equal = (a: Operand, b: Operand): Tensor => apply1(Equal, lift("equal", a, b), null);
/** Elementwise logical and of bool tensors. */
export const and = (a: Tensor, b: Tensor): Tensor => apply1(And, [a, b], null);
/** Elementwise logical or of bool tensors. */
export const or = (a: Tensor, b: Tensor): Tensor => apply1(Or, [a, b], null);
/** Elementwise logical not of a bool tensor. */
export const not = (x: Tensor): Tensor => apply1(Not, [x], null);
/** `-x`. */
export const neg = (x: Tensor): Tensor => apply1(Neg, [x], null);
/** `e^x`. */
export const exp = (x: Tensor): Tensor => apply1(Exp, [x], null);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => apply1(Log, [x], null);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => apply1(Sqrt, [x], null);
/** The logistic function `1 / (1 + e^-x)` (ONNX Sigmoid). */
export const sigmoid = (x: Tensor): Tensor => apply1(Sigmoid, [x], null);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => apply1(Tanh, [x], null);
/** The error function (computed in float32 on the CPU, also for float64 inputs). */
export const erf = (x: Tensor): Tensor => apply1(Erf, [x], x.dtype);
/** A value with the same data through which no gradient flows. */
export const stopGradient = (x: Tensor): Tensor => apply1(StopGradient, [x], null);
/** Uniform [0, 1) noise shaped like `x`; a fixed `seed` gives the same sequence of draws per session. */
export const randomUniformLike = (x: Tensor, seed: number): Tensor =>
  apply1(RandomUniformLike, [x], { seed });

/** Converts to another dtype. */
export function cast(x: Tensor, to: DType): Tensor {
  return x.dtype === to ? x : apply1(Cast, [x], to);
}

/** `condition ? a : b` elementwise with broadcasting; numbers take the tensor operand's dtype. */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  const [x, y] = lift("where", a, b);
  return apply1(Where, [condition, x, y], null);
}
