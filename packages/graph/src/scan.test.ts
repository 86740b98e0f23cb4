import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import { dump } from "./dump.js";
import { add, mul, tanh, where } from "./elementwise.js";
import { evaluate } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { concat, slice, split } from "./indexing.js";
import { scan } from "./scan.js";
import { matmul, reduceSum, unsqueeze } from "./structural.js";
import { checkGrads, randomInput, rng, values } from "./test-utils/check-grads.js";

const seeds = fc.integer({ min: 1, max: 1_000_000 });

/** h_t = tanh(h_{t-1}·W + x_t), kept at h_{t-1} where the step is masked out (past a row's length). */
function rnn(h0: Tensor, xs: Tensor, w: Tensor, mask: Tensor | null, reverse: boolean) {
  return scan(
    ([h], [x, m]) => {
      const next = tanh(add(matmul(h as Tensor, w), x as Tensor)); // shape: [batch, hidden]
      const kept = m ? where(unsqueeze(m, [-1]), next, h as Tensor) : next;
      return { carry: [kept], ys: [mul(kept, kept)] };
    },
    [h0],
    mask ? [xs, mask] : [xs],
    { axis: 1, reverse },
  );
}

describe("scan", () => {
  it("gradients through a recurrent cell match central differences (init, xs, captured weights)", async () => {
    const cases = fc.tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.boolean(),
      seeds,
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([batch, steps, hidden, reverse, seed]) => {
        const random = rng(seed);
        const f = (h0: Tensor, xs: Tensor, w: Tensor) => {
          const { carry, ys } = rnn(h0, xs, w, null, reverse);
          return add(reduceSum(ys[0] as Tensor, [1]), carry[0] as Tensor);
        };
        const error = await checkGrads(
          f,
          [
            randomInput([batch, hidden], random),
            randomInput([batch, steps, hidden], random),
            randomInput([hidden, hidden], random, -1, 1),
          ],
          seed,
        );
        expect(error).toBeLessThan(1e-6);
      }),
      { numRuns: 10 },
    );
  });

  it("variable lengths: masked steps leave the state alone and gradients still match", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 5 }),
        seeds,
        async (batch, steps, seed) => {
          const random = rng(seed);
          const lengths = Array.from({ length: batch }, () => 1 + Math.floor(random() * steps));
          const maskData = Uint8Array.from({ length: batch * steps }, (_, i) =>
            i % steps < (lengths[Math.floor(i / steps)] ?? 0) ? 1 : 0,
          );
          const f = (h0: Tensor, xs: Tensor, w: Tensor) => {
            const mask = h0.graph.constant(maskData, [batch, steps]);
            return rnn(h0, xs, w, mask, false).carry[0] as Tensor;
          };
          const error = await checkGrads(
            f,
            [
              randomInput([batch, 2], random),
              randomInput([batch, steps, 2], random),
              randomInput([2, 2], random, -1, 1),
            ],
            seed,
          );
          expect(error).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 8 },
    );
  });

  it("runs over a symbolic number of steps and matches a plain loop", async () => {
    const graph = new Graph();
    const xs = graph.input("xs", "float64", [1, "steps"]);
    const mask = graph.input("mask", "bool", [1, "steps"]);
    const h0 = graph.constant(Float64Array.of(0), [1]);
    // A running sum that stops at the row's length.
    const { carry, ys } = scan(
      ([h], [x, m]) => {
        const next = where(m as Tensor, add(h as Tensor, x as Tensor), h as Tensor);
        return { carry: [next], ys: [next] };
      },
      [h0],
      [xs, mask],
      { axis: 1 },
    );
    const [g] = grad(reduceSum(carry[0] as Tensor), [xs]);
    const result = await evaluate(
      { total: carry[0] as Tensor, running: ys[0] as Tensor, g: g as Tensor },
      {
        xs: { data: Float64Array.of(1, 2, 3, 4, 5), dims: [1, 5] },
        mask: { data: Uint8Array.of(1, 1, 1, 0, 0), dims: [1, 5] },
      },
    );
    expect(values(result.total)).toEqual([6]);
    expect(values(result.running)).toEqual([1, 3, 6, 6, 6]);
    expect(values(result.g)).toEqual([1, 1, 1, 0, 0]);
  });

  it("concat, slice and split inside a body with a symbolic batch: gradients match central differences", async () => {
    // Their gradients (Split, Pad, Concat) run inside the reversed Scan, where ORT needs every body
    // output's shape: the static widths give constant split sizes and pads.
    const cases = fc.tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.boolean(),
      seeds,
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([batch, steps, reverse, seed]) => {
        const random = rng(seed);
        const f = (h0: Tensor, xs: Tensor, w: Tensor) => {
          const { carry, ys } = scan(
            ([h], [x]) => {
              const z = add(matmul(concat([h as Tensor, tanh(h as Tensor)], -1), w), x as Tensor); // shape: [batch, 4]
              const [a, b] = split(z, z.graph.constant(BigInt64Array.of(1n, 3n), [2]), -1, [
                ["batch", 1],
                ["batch", 3],
              ]) as [Tensor, Tensor];
              const next = mul(tanh(slice(b, -1, 1, 3)), a); // shape: [batch, 2]
              return { carry: [next], ys: [concat([a, slice(z, -1, 0, 2)], -1)] };
            },
            [h0],
            [xs],
            { axis: 1, reverse },
          );
          // Sums over the symbolic batch so the checked output has a static shape.
          return add(reduceSum(ys[0] as Tensor, [0, 1]), reduceSum(carry[0] as Tensor, [0, 1], false));
        };
        const error = await checkGrads(
          f,
          [
            { ...randomInput([batch, 2], random), declared: ["batch", 2] },
            { ...randomInput([batch, steps, 4], random), declared: ["batch", "steps", 4] },
            randomInput([4, 4], random, -1, 1),
          ],
          seed,
        );
        expect(error).toBeLessThan(1e-6);
      }),
      { numRuns: 8 },
    );
  });

  it("the reversed Scan reads the forward's values from saved residuals and sums a weight's gradient after the loop", () => {
    const graph = new Graph();
    const xs = graph.input("xs", "float64", [3, "steps", 2]);
    const h0 = graph.input("h0", "float64", [3, 2]);
    const w = graph.input("w", "float64", [2, 2]);
    const { ys } = rnn(h0, xs, w, null, false);
    const [dw] = grad(reduceSum(ys[0] as Tensor), [w]);
    const text = dump({ dw: dw as Tensor });
    // One Tanh and one h·W (the forward's), none in the gradient's body: Tanh's rule reads the saved
    // output, and the gradient's products are dz·Wᵀ and hᵀ·dz.
    expect(text.match(/= Tanh\(/g)).toHaveLength(1);
    expect(text.match(/= Scan\(/g)).toHaveLength(2);
    expect(text.match(/= MatMul\(/g)).toHaveLength(3);
    // dW = Σ_t h_tᵀ·dz_t is one product after the loop, not a running sum inside it.
    expect(text).not.toMatch(/ {4}t\d+: float64\[2,2\] = Add\(/);
    expect(text).toMatch(/^t\d+: float64\[2,2\] = MatMul\(/m);
  });

  it("validates its inputs and the body", () => {
    const graph = new Graph();
    const xs = graph.input("xs", "float64", [2, 3]);
    const h = graph.input("h", "float64", [2]);
    expect(() =>
      scan(() => ({ carry: [], ys: [] }), [graph.constant(Float64Array.of(1), [])], [xs], { axis: 1 }),
    ).toThrow(
      "scan: init[0]: expected a tensor of rank >= 1 (carries are stacked on axis 1 for the gradient), got []",
    );
    expect(() => scan(() => ({ carry: [], ys: [] }), [h], [])).toThrow(
      "scan: xs: expected at least one scanned input, got none",
    );
    expect(() => scan(() => ({ carry: [], ys: [] }), [h], [xs])).toThrow(
      "scan: body: expected 1 carried values, got 0",
    );
    expect(() => scan(([c]) => ({ carry: [unsqueeze(c as Tensor, [0])], ys: [] }), [h], [xs])).toThrow(
      "scan: body carry[0]: expected float64[2], got float64[1,2]",
    );
    expect(() =>
      scan(() => ({ carry: [h], ys: [] }), [h], [xs, graph.input("short", "float64", [1, 3])]),
    ).toThrow("scan: xs[1]: expected a tensor with 2 steps on axis 0, got [1,3]");
  });
});
