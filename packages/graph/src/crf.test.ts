import { LinearChainCrf } from "@xlt/crf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "./autodiff.js";
import { crfNll } from "./crf.js";
import { evaluate } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { reduceSum } from "./structural.js";
import { rng, values } from "./test-utils/check-grads.js";

describe("crfNll (forward algorithm in a Scan) matches @xlt/crf", () => {
  it("loss and gradients for emissions, transitions, start and end on random inputs and lengths", async () => {
    const cases = fc.tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 1_000_000 }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([B, T, K, seed]) => {
        const random = rng(seed);
        const normal = (n: number) => Float64Array.from({ length: n }, () => random() * 4 - 2);
        const emissions = normal(B * T * K);
        const transitions = normal(K * K);
        const start = normal(K);
        const end = normal(K);
        const lengths = Array.from({ length: B }, () => 1 + Math.floor(random() * T));
        const tags = Array.from({ length: B * T }, (_, i) =>
          i % T < (lengths[Math.floor(i / T)] ?? 0) ? Math.floor(random() * K) : -1,
        );
        const crf = new LinearChainCrf({
          numTags: K,
          transitions: { data: transitions, dims: [K, K] },
          start,
          end,
        });
        const expected = crf.nll(
          { data: emissions, dims: [B, T, K] },
          { data: Int32Array.from(tags), dims: [B, T] },
          { lengths, reduction: "sum" },
        );

        const graph = new Graph();
        const e = graph.input("emissions", "float64", ["batch", "steps", K]);
        const y = graph.input("tags", "int64", ["batch", "steps"]);
        const m = graph.input("mask", "bool", ["batch", "steps"]);
        const t = graph.input("transitions", "float64", [K, K]);
        const s = graph.input("start", "float64", [K]);
        const z = graph.input("end", "float64", [K]);
        const loss = reduceSum(crfNll(e, y, m, { transitions: t, start: s, end: z }));
        const [de, dt, ds, dz] = grad(loss, [e, t, s, z]) as [Tensor, Tensor, Tensor, Tensor];
        const result = await evaluate(
          { loss, de, dt, ds, dz },
          {
            emissions: { data: emissions, dims: [B, T, K] },
            tags: { data: BigInt64Array.from(tags, (tag) => BigInt(tag)), dims: [B, T] },
            mask: {
              data: Uint8Array.from(tags, (_, i) => (i % T < (lengths[Math.floor(i / T)] ?? 0) ? 1 : 0)),
              dims: [B, T],
            },
            transitions: { data: transitions, dims: [K, K] },
            start: { data: start, dims: [K] },
            end: { data: end, dims: [K] },
          },
        );
        const close = (actual: number[], wanted: ArrayLike<number>) => {
          expect(actual).toHaveLength(wanted.length);
          for (const [index, value] of actual.entries())
            expect(Math.abs(value - (wanted[index] ?? Number.NaN))).toBeLessThan(1e-9);
        };
        close(values(result.loss), [expected.loss]);
        close(values(result.de), expected.grad.emissions.data);
        close(values(result.dt), expected.grad.transitions.data);
        close(values(result.ds), expected.grad.start.data);
        close(values(result.dz), expected.grad.end.data);
      }),
      { numRuns: 15 },
    );
  });

  it("validates its inputs", () => {
    const graph = new Graph();
    const e = graph.input("e", "float64", [1, 2, 3]);
    const crf = {
      transitions: graph.input("t", "float64", [3, 3]),
      start: graph.input("s", "float64", [3]),
      end: graph.input("z", "float64", [3]),
    };
    const tags = graph.input("y", "int64", [1, 2]);
    const mask = graph.input("m", "bool", [1, 2]);
    expect(() => crfNll(graph.input("e2", "float64", [1, 2]), tags, mask, crf)).toThrow(
      "crfNll: emissions: expected [batch, steps, K] with a fixed K, got rank 2",
    );
    expect(() => crfNll(e, mask, mask, crf)).toThrow("crfNll: tags: expected an int64 tensor, got bool");
    expect(() => crfNll(e, tags, tags, crf)).toThrow("crfNll: mask: expected a bool tensor, got int64");
  });
});
