import { evaluate, Graph } from "@xlt/graph";
import { bind } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { SoftmaxHead } from "./softmax-head.js";
import { maskData, numbers } from "./test-utils/values.js";

describe("SoftmaxHead", () => {
  it("loss is the mean cross-entropy over real steps (direct computation)", { timeout: 30_000 }, async () => {
    const head = new SoftmaxHead({ inputSize: 2, labels: ["A", "B", "C"], dtype: "float64" });
    const [B, T, K] = [2, 3, 3];
    const lengths = [3, 1];
    const tags = [2, 0, 1, 1, 2, 0];
    const logits = Float64Array.from({ length: B * T * K }, (_, i) => Math.sin(i * 1.3) * 3);
    const graph = new Graph();
    const params = bind(head.parameters, (path, p) => graph.input(path, "float64", p.shape));
    const loss = head.loss(params, {
      scores: graph.constant(logits, [B, T, K]),
      tags: graph.constant(BigInt64Array.from(tags, BigInt), [B, T]),
      mask: graph.constant(maskData(lengths, T), [B, T]),
    });
    const result = await evaluate({ loss }, {});
    let total = 0;
    let count = 0;
    for (const [b, length] of lengths.entries()) {
      for (let t = 0; t < length; t += 1) {
        const row = Array.from(logits.subarray((b * T + t) * K, (b * T + t + 1) * K));
        const logZ = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
        total += logZ - (row[tags[b * T + t] ?? 0] ?? 0);
        count += 1;
      }
    }
    expect(Math.abs((numbers(result.loss)[0] ?? Number.NaN) - total / count)).toBeLessThan(1e-12);
  });

  it("decodes the arg-max with its softmax probability", () => {
    const head = new SoftmaxHead({ inputSize: 2, labels: ["A", "B"] });
    const scores = Float32Array.from([0, Math.log(3), 2, 2, 9, 9, 1, 0]);
    const { paths, confidences } = head.decode(new Map(), { data: scores, dims: [2, 2, 2] }, [2, 1]);
    expect(paths).toEqual([[1, 0], [0]]);
    expect(confidences[0]?.[0]).toBeCloseTo(0.75, 6);
    expect(confidences[0]?.[1]).toBeCloseTo(0.5, 6);
    expect(confidences[1]?.[0]).toBeCloseTo(0.5, 6);
  });

  it("errors name the argument", () => {
    expect(() => new SoftmaxHead({ inputSize: 2, labels: [] })).toThrow(
      new HeadsError("SoftmaxHead", "options.labels", "at least one label", "none"),
    );
    const head = new SoftmaxHead({ inputSize: 2, labels: ["A", "B"] });
    expect(() => head.decode(new Map(), { data: new Float32Array(6), dims: [1, 2, 3] }, [2])).toThrow(
      "SoftmaxHead.decode: scores: expected [1, steps, 2], got [1, 2, 3]",
    );
    expect(() => head.decode(new Map(), { data: new Float32Array(4), dims: [1, 2, 2] }, [3])).toThrow(
      "SoftmaxHead.decode: lengths[0]: expected an integer in 1..2, got 3",
    );
  });
});
