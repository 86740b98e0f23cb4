import { fileURLToPath } from "node:url";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { LinearChainCrf } from "./linear-chain-crf.js";
import { bruteForce } from "./test-utils/brute-force.js";

// The weights baked into fixtures/tiny-emissions.onnx by fixtures/make_tiny_emissions.py.
const W = [
  [-1.5, -1.0, -0.5, 0.0, 0.5],
  [1.0, 1.5, -1.5, -1.0, -0.5],
  [0.0, 0.5, 1.0, 1.5, -1.5],
  [-1.0, -0.5, 0.0, 0.5, 1.0],
];
const bias = [0.5, -0.25, 0.0, 0.75, -1.0];

describe("decoding onnxruntime-node output", () => {
  it("decodes an emissions Tensor from a tiny ONNX graph as is", async () => {
    const model = fileURLToPath(new URL("../fixtures/tiny-emissions.onnx", import.meta.url));
    const session = await InferenceSession.create(model, { executionProviders: ["cpu"] });
    const [batch, steps, features] = [2, 4, 4];
    const x = Float32Array.from(
      { length: batch * steps * features },
      (_, index) => Math.sin(index * 1.7) * 2,
    );
    const output = await session.run({ x: new Tensor("float32", x, [batch, steps, features]) });
    const emissions = output["emissions"] as Tensor;
    expect(emissions.dims).toEqual([batch, steps, 5]);

    const transitions = Array.from({ length: 5 }, (_, i) =>
      Array.from({ length: 5 }, (_, j) => Math.cos(i * 5 + j)),
    );
    const crf = new LinearChainCrf({ numTags: 5, transitions });
    const lengths = [4, 3];
    const decoded = crf.decode(emissions, { lengths });

    // Oracle: the same emissions computed in JS (float32 like ORT) and enumerated by brute force.
    const expected = Array.from({ length: batch }, (_, b) =>
      Array.from({ length: steps }, (_, t) =>
        bias.map((value, k) => {
          let sum = 0;
          for (let f = 0; f < features; f++)
            sum += (x[(b * steps + t) * features + f] as number) * (W[f]?.[k] as number);
          return Math.fround(sum + value);
        }),
      ),
    );
    const zeros = [0, 0, 0, 0, 0];
    lengths.forEach((length, b) => {
      const brute = bruteForce(
        { K: 5, transitions, start: zeros, end: zeros },
        (expected[b] as number[][]).slice(0, length),
      );
      expect(decoded.paths[b]).toEqual(brute.best.path);
      expect(decoded.scores[b]).toBeCloseTo(brute.best.score, 4);
    });
    await session.release();
  });
});
