import { grad } from "../autodiff.js";
import { mul } from "../elementwise.js";
import { GraphError } from "../errors.js";
import { createSession, fromOrtTensor, type TensorValue, toOrtTensor } from "../evaluate.js";
import { Graph, type Shape, type Tensor } from "../graph.js";
import { toOnnx } from "../onnx.js";
import { reduceSum } from "../structural.js";

/** A deterministic generator of floats in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GradInput {
  readonly shape: readonly number[];
  readonly data: Float64Array;
  /** The shape the graph declares, when some dims should be symbolic (default `shape`). */
  readonly declared?: Shape;
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Random float64 data of a shape in [low, high). */
export function randomInput(shape: readonly number[], random: () => number, low = -2, high = 2): GradInput {
  return { shape, data: Float64Array.from({ length: size(shape) }, () => low + (high - low) * random()) };
}

/**
 * The float64 data of output `name` with `length` values, for `checkGrads`: a missing or misshapen
 * loss or gradient throws rather than reading as 0 on both sides of the comparison.
 */
export function float64Output(
  results: Readonly<Record<string, TensorValue | undefined>>,
  name: string,
  length: number,
): Float64Array {
  const value = results[name];
  const got = !value
    ? "none"
    : value.data instanceof Float64Array
      ? `${value.data.length} values`
      : value.data.constructor.name;
  if (!(value?.data instanceof Float64Array) || value.data.length !== length)
    throw new GraphError("checkGrads", "f", `a float64 output ${name} with ${length} values`, got);
  return value.data;
}

/**
 * JAX-style check: the gradient of `sum(f(x) · r)` (r random) along random directions `v` matches
 * the central difference `(L(x + h v) - L(x - h v)) / 2h` on float64 graphs. Returns the worst
 * relative error over `directions` directions.
 */
export async function checkGrads(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  seed: number,
  directions = 2,
): Promise<number> {
  const random = rng(seed);
  const graph = new Graph();
  const xs = inputs.map((input, index) => graph.input(`x${index}`, "float64", input.declared ?? input.shape));
  const y = f(...xs);
  const yShape = y.shape.map((dim) => Number(dim));
  const r = graph.constant(
    Float64Array.from({ length: size(yShape) }, () => random() * 2 - 1),
    yShape,
  );
  const loss = reduceSum(mul(y, r));
  const grads = grad(loss, xs);
  const outputs: Record<string, Tensor> = { loss };
  for (const [index, g] of grads.entries()) outputs[`g${index}`] = g;
  const model = toOnnx(outputs);
  const session = await createSession(model);
  const run = async (datas: readonly Float64Array[]) => {
    const feeds = Object.fromEntries(
      datas.map((data, index) => [
        `x${index}`,
        toOrtTensor("float64", { data, dims: inputs[index]?.shape ?? [] }),
      ]),
    );
    const results = await session.run(feeds);
    return Object.fromEntries(Object.entries(results).map(([name, tensor]) => [name, fromOrtTensor(tensor)]));
  };
  try {
    const base = await run(inputs.map((input) => input.data));
    let worst = 0;
    for (let d = 0; d < directions; d += 1) {
      const vs = inputs.map((input) => Float64Array.from(input.data, () => random() * 2 - 1));
      const h = 1e-5;
      const plus = await run(inputs.map((input, i) => input.data.map((x, j) => x + h * (vs[i]?.[j] ?? 0))));
      const minus = await run(inputs.map((input, i) => input.data.map((x, j) => x - h * (vs[i]?.[j] ?? 0))));
      const loss = (results: Record<string, TensorValue>) => float64Output(results, "loss", 1)[0] as number;
      const numeric = (loss(plus) - loss(minus)) / (2 * h);
      let analytic = 0;
      for (const [i, v] of vs.entries()) {
        const g = float64Output(base, `g${i}`, v.length);
        for (let j = 0; j < v.length; j += 1) analytic += (g[j] as number) * (v[j] as number);
      }
      worst = Math.max(worst, Math.abs(numeric - analytic) / Math.max(1, Math.abs(numeric)));
    }
    return worst;
  } finally {
    await session.release();
  }
}

/** The numbers in an evaluated value (bigints and bools converted). */
export function values(value: TensorValue | undefined): number[] {
  const out: number[] = [];
  if (!value) return out;
  for (let index = 0; index < value.data.length; index += 1) out.push(Number(value.data[index]));
  return out;
}
