import { evaluate, Graph } from "@xlt/graph";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { causalLmLabels, causalLmLoss, positionIds } from "./decoder.js";

const numbers = (value: { data: ArrayLike<number | bigint> } | undefined) =>
  Array.from({ length: value?.data.length ?? 0 }, (_, i) => Number(value?.data[i]));
const int64 = (values: number[], dims: number[]) => ({ data: BigInt64Array.from(values, BigInt), dims });

describe("decoder inputs", () => {
  it("positions count real tokens; labels keep real tokens with a real token before them", async () => {
    const graph = new Graph();
    const ids = graph.input("ids", "int64", ["batch", "steps"]);
    const mask = graph.input("mask", "int64", ["batch", "steps"]);
    const result = await evaluate(
      {
        positions: positionIds(ids, mask),
        labels: causalLmLabels(ids, mask),
        plain: positionIds(ids),
        plainLabels: causalLmLabels(ids),
      },
      {
        ids: int64([5, 6, 7, 8, 9, 10, 11, 12], [2, 4]),
        mask: int64([1, 1, 1, 0, 0, 0, 1, 1], [2, 4]),
      },
    );
    expect(numbers(result.positions)).toEqual([0, 1, 2, 0, 0, 0, 0, 1]);
    expect(numbers(result.labels)).toEqual([-100, 6, 7, -100, -100, -100, -100, 12]);
    expect(numbers(result.plain)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(numbers(result.plainLabels)).toEqual([-100, 6, 7, 8, -100, 10, 11, 12]);
  });

  it("positions and labels of any mask match a brute-force count (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((steps) =>
          fc.array(fc.array(fc.boolean(), { minLength: steps, maxLength: steps }), {
            minLength: 1,
            maxLength: 3,
          }),
        ),
        async (rows) => {
          const [batch, steps] = [rows.length, rows[0]?.length ?? 0];
          const graph = new Graph();
          const ids = graph.input("ids", "int64", ["batch", "steps"]);
          const mask = graph.input("mask", "bool", ["batch", "steps"]);
          const tokens = rows.flatMap((row, b) => row.map((_, t) => 10 * b + t + 1));
          const result = await evaluate(
            { positions: positionIds(ids, mask), labels: causalLmLabels(ids, mask) },
            {
              ids: int64(tokens, [batch, steps]),
              mask: { data: Uint8Array.from(rows.flat(), Number), dims: [batch, steps] },
            },
          );
          const positions: number[] = [];
          const labels: number[] = [];
          rows.forEach((row, b) => {
            let seen = 0;
            row.forEach((real, t) => {
              positions.push(real ? seen : 0);
              labels.push(real && seen > 0 ? 10 * b + t + 1 : -100);
              if (real) seen += 1;
            });
          });
          expect(numbers(result.positions)).toEqual(positions);
          expect(numbers(result.labels)).toEqual(labels);
        },
      ),
      { numRuns: 20 },
    );
  });

  it("the loss is the summed next-token NLL over labels ≠ -100, and its mean (brute force)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        async (batch, steps, seed) => {
          const vocab = 4;
          const logits = Float64Array.from(
            { length: batch * steps * vocab },
            (_, i) => Math.sin(seed + i * 0.77) * 3,
          );
          const labels = Array.from({ length: batch * steps }, (_, i) => ((seed + i * 7) % 6) - 1).map((v) =>
            v < 0 ? -100 : v % vocab,
          );
          const graph = new Graph();
          const x = graph.input("logits", "float64", ["batch", "steps", vocab]);
          const y = graph.input("labels", "int64", ["batch", "steps"]);
          const { loss, nll, count } = causalLmLoss(x, y);
          const result = await evaluate(
            { loss, nll, count },
            { logits: { data: logits, dims: [batch, steps, vocab] }, labels: int64(labels, [batch, steps]) },
          );
          let total = 0;
          let kept = 0;
          for (let b = 0; b < batch; b += 1)
            for (let t = 1; t < steps; t += 1) {
              const label = labels[b * steps + t] ?? -100;
              if (label === -100) continue;
              const row = Array.from(logits.slice((b * steps + t - 1) * vocab, (b * steps + t) * vocab));
              const logZ = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
              total += logZ - (row[label] ?? 0);
              kept += 1;
            }
          expect(numbers(result.count)[0]).toBe(kept);
          expect(numbers(result.nll)[0]).toBeCloseTo(total, 10);
          expect(numbers(result.loss)[0]).toBeCloseTo(kept > 0 ? total / kept : 0, 10);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("rejects misshapen ids, masks, logits and labels", () => {
    const graph = new Graph();
    const ids = graph.input("ids", "int64", [2, 3]);
    expect(() => positionIds(graph.input("f", "float32", [2, 3]))).toThrow(
      "positionIds: ids: expected an int64 tensor [batch, steps], got float32 [2,3]",
    );
    expect(() => causalLmLabels(ids, graph.input("m", "float32", [2, 3]))).toThrow(
      "causalLmLabels: mask: expected a bool or int64 tensor [batch, steps], got float32 [2,3]",
    );
    const logits = graph.input("logits", "float32", [2, 3, 5]);
    expect(() => causalLmLoss(graph.input("flat", "float32", [2, 5]), ids)).toThrow(
      "causalLmLoss: logits: expected a tensor [batch, steps, vocab] with a fixed vocab, got [2,5]",
    );
    expect(() => causalLmLoss(logits, graph.input("l", "int32", [2, 3]))).toThrow(
      "causalLmLoss: labels: expected an int64 tensor [batch, steps], got int32 [2,3]",
    );
  });
});
