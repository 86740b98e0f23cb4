import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import {
  add,
  cast,
  div,
  equal,
  erf,
  exp,
  greater,
  less,
  log,
  mul,
  neg,
  sigmoid,
  sqrt,
  stopGradient,
  sub,
  tanh,
  where,
} from "./elementwise.js";
import { evaluate } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { reduceSum } from "./structural.js";
import { checkGrads, randomInput, rng, values } from "./test-utils/check-grads.js";

/** A shape and a second shape broadcastable against it (leading dims dropped, some dims set to 1). */
const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.integer({ min: 0, max: shape.length }),
      fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      fc.boolean(),
      fc.integer({ min: 1, max: 1_000_000 }),
    ),
  )
  .map(([shape, drop, ones, swap, seed]) => {
    const other = shape.slice(drop).map((dim, index) => (ones[index + drop] ? 1 : dim));
    return { a: swap ? other : shape, b: swap ? shape : other, seed };
  });

const TOLERANCE = 1e-6;

describe("binary primitives: gradients match central differences with broadcasting", () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, [number, number]][] = [
    ["add", add, [-2, 2]],
    ["sub", sub, [-2, 2]],
    ["mul", mul, [-2, 2]],
    ["div", div, [0.5, 2]],
  ];
  for (const [name, op, [low, high]] of cases) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(broadcastPair, async ({ a, b, seed }) => {
          const random = rng(seed);
          const error = await checkGrads(
            op,
            [randomInput(a, random, low, high), randomInput(b, random, low, high)],
            seed,
          );
          expect(error).toBeLessThan(TOLERANCE);
        }),
        { numRuns: 12 },
      );
    });
  }

  it("where (condition, a and b all broadcast)", async () => {
    await fc.assert(
      fc.asyncProperty(broadcastPair, async ({ a, b, seed }) => {
        const random = rng(seed);
        const f = (x: Tensor, y: Tensor) => where(greater(x, 0), mul(x, y), sub(y, x));
        const error = await checkGrads(f, [randomInput(a, random), randomInput(b, random)], seed);
        expect(error).toBeLessThan(TOLERANCE);
      }),
      { numRuns: 12 },
    );
  });
});

describe("unary primitives: gradients match central differences", () => {
  const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
  const cases: [string, (x: Tensor) => Tensor, [number, number]][] = [
    ["neg", neg, [-2, 2]],
    ["exp", exp, [-2, 2]],
    ["log", log, [0.5, 3]],
    ["sqrt", sqrt, [0.5, 3]],
    ["tanh", tanh, [-2, 2]],
    ["sigmoid", sigmoid, [-4, 4]],
    ["cast float64 -> float64 through stopGradient-free path", (x) => mul(cast(x, "float64"), x), [-2, 2]],
  ];
  for (const [name, op, [low, high]] of cases) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(shapes, fc.integer({ min: 1, max: 1_000_000 }), async (shape, seed) => {
          const error = await checkGrads(op, [randomInput(shape, rng(seed), low, high)], seed);
          expect(error).toBeLessThan(TOLERANCE);
        }),
        { numRuns: 10 },
      );
    });
  }
});

describe("sigmoid", () => {
  it("is 1/(1+e^-x) in float64 to 1e-15 (absolute), without overflow far out in either tail", async () => {
    const xs = [-800, -30, -2.5, -1e-3, 0, 0.7, 3, 40, 800];
    const graph = new Graph();
    const x = graph.input("x", "float64", [xs.length]);
    const out = await evaluate({ y: sigmoid(x) }, { x: { data: Float64Array.from(xs), dims: [xs.length] } });
    values(out.y).forEach((value, i) => {
      const expected = 1 / (1 + Math.exp(-(xs[i] as number)));
      expect(Math.abs(value - expected)).toBeLessThanOrEqual(1e-15);
    });
  });
});

describe("erf", () => {
  it("has the gradient 2/sqrt(pi) exp(-x²) to float32 accuracy (ORT computes Erf in float32)", async () => {
    const error = await checkGrads(erf, [randomInput([5], rng(3))], 3);
    expect(error).toBeLessThan(1e-2);
    const graph = new Graph();
    const x = graph.input("x", "float64", [3]);
    const [g] = grad(reduceSum(erf(x)), [x]);
    const result = await evaluate(
      { g: g as Tensor },
      { x: { data: Float64Array.of(-1, 0, 0.5), dims: [3] } },
    );
    const expected = [-1, 0, 0.5].map((v) => (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v));
    for (const [index, value] of expected.entries()) expect(result.g?.data[index]).toBeCloseTo(value, 12);
  });
});

describe("elementwise values", () => {
  it("compute what they say and stopGradient blocks the gradient", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [3]);
    const results = await evaluate(
      {
        lt: less(x, 0),
        eq: equal(x, 2),
        f32: cast(x, "float32"),
        stopped: stopGradient(mul(x, 2)),
      },
      { x: { data: Float64Array.of(-1, 2, 3), dims: [3] } },
    );
    expect(values(results.lt)).toEqual([1, 0, 0]);
    expect(values(results.eq)).toEqual([0, 1, 0]);
    expect(results.f32?.data).toBeInstanceOf(Float32Array);
    expect(values(results.stopped)).toEqual([-2, 4, 6]);
  });

  it("reject mixed dtypes and bad broadcasting by name", () => {
    const graph = new Graph();
    const x = graph.input("x", "float64", [3]);
    const y = graph.input("y", "float32", [3]);
    const z = graph.input("z", "float64", [4]);
    expect(() => add(x, y)).toThrow("Add: dtypes: expected equal dtypes, got float64 and float32");
    expect(() => mul(x, z)).toThrow("Mul: shapes: expected broadcastable shapes, got [3] and [4]");
    expect(() => add(1, 2)).toThrow("add: operands: expected at least one tensor, got two numbers");
    expect(() => log(graph.input("i", "int64", [2]))).toThrow(
      "Log: x: expected a float32 or float64 tensor, got int64",
    );
  });
});
