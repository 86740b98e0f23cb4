import { evaluate, Graph, type Tensor } from "@xlt/graph";
import { bind, flatten, initialize } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { BiLstm } from "./lstm.js";
import { maxDifference, numbers } from "./test-utils/values.js";
import { WordEncoder } from "./word-encoder.js";

// Two sentences of 2 and 1 words; three spelled words with 3, 1 and 2 characters (0 pads).
const words = BigInt64Array.from([2n, 3n, 4n, 0n]);
const chars = BigInt64Array.from([2n, 3n, 4n, 5n, 0n, 0n, 3n, 2n, 0n]);
const charRows = BigInt64Array.from([0n, 1n, 2n, 0n]);

async function encode(encoder: WordEncoder, seed: number) {
  const values = initialize(encoder.parameters, seed);
  const graph = new Graph();
  const params = bind(encoder.parameters, (path, p) =>
    graph.constant(values.get(path) as Float64Array, p.shape),
  );
  const out = encoder.forward(
    params,
    {
      words: graph.input("words", "int64", ["batch", "steps"]),
      chars: graph.input("chars", "int64", ["words", "chars"]),
      charRows: graph.input("charRows", "int64", ["batch", "steps"]),
    },
    { training: false },
  );
  const result = await evaluate(
    { out },
    {
      words: { data: words, dims: [2, 2] },
      chars: { data: chars, dims: [3, 3] },
      charRows: { data: charRows, dims: [2, 2] },
    },
  );
  return { out: numbers(result.out), values };
}

describe("WordEncoder", () => {
  it("char CNN: word embedding then max over characters of ReLU(window · W + b) (direct computation)", {
    timeout: 30_000,
  }, async () => {
    const [E, F] = [2, 3];
    const encoder = new WordEncoder({
      words: 5,
      wordDim: 2,
      chars: 6,
      charEncoder: "cnn",
      charDim: E,
      charHidden: F,
      dtype: "float64",
    });
    expect(encoder.outputSize).toBe(5);
    const { out, values } = await encode(encoder, 3);
    const table = values.get("chars.weight") as Float64Array;
    const W = values.get("charCnn.weight") as Float64Array; // [3E, F]
    const b = values.get("charCnn.bias") as Float64Array;
    const wordTable = values.get("words.weight") as Float64Array;
    const spell = (row: number): number[] => {
      const ids = Array.from(chars.subarray(row * 3, row * 3 + 3), Number).filter((id) => id !== 0);
      const embed = (position: number) =>
        position < 0 || position >= ids.length
          ? [0, 0]
          : Array.from(table.subarray((ids[position] as number) * E, (ids[position] as number) * E + E));
      const best = Array.from({ length: F }, () => 0);
      for (let t = 0; t < ids.length; t += 1) {
        const window = [...embed(t - 1), ...embed(t), ...embed(t + 1)];
        for (let f = 0; f < F; f += 1) {
          let sum = b[f] ?? 0;
          for (let k = 0; k < 3 * E; k += 1) sum += (window[k] ?? 0) * (W[k * F + f] ?? 0);
          best[f] = Math.max(best[f] ?? 0, sum, 0);
        }
      }
      return best;
    };
    const expected: number[] = [];
    for (let step = 0; step < 4; step += 1) {
      const id = Number(words[step]);
      expected.push(...Array.from(wordTable.subarray(id * 2, id * 2 + 2)), ...spell(Number(charRows[step])));
    }
    expect(maxDifference(out, expected)).toBeLessThan(1e-12);
  });

  it("char BiLSTM: the final forward and backward states of the word's characters", {
    timeout: 30_000,
  }, async () => {
    const encoder = new WordEncoder({
      words: 5,
      wordDim: 2,
      chars: 6,
      charEncoder: "bilstm",
      charDim: 2,
      charHidden: 2,
      dtype: "float64",
    });
    expect(encoder.outputSize).toBe(6);
    const { out, values } = await encode(encoder, 4);
    // The same BiLSTM run on each word alone, without padding.
    const lstm = new BiLstm({ inputSize: 2, hiddenSize: 2, dtype: "float64" });
    const prefixed = new Map(
      flatten(lstm.parameters).map(([path]) => [path, values.get(`charLstm.${path}`)]),
    );
    const table = values.get("chars.weight") as Float64Array;
    for (const [step, row] of [0, 1, 2].entries()) {
      const ids = Array.from(chars.subarray(row * 3, row * 3 + 3), Number).filter((id) => id !== 0);
      const graph = new Graph();
      const params = bind(lstm.parameters, (path, p) =>
        graph.constant(prefixed.get(path) as Float64Array, p.shape),
      );
      const x = graph.constant(
        Float64Array.from(ids.flatMap((id) => Array.from(table.subarray(id * 2, id * 2 + 2)))),
        [1, ids.length, 2],
      );
      const mask = graph.constant(new Uint8Array(ids.length).fill(1), [1, ids.length]);
      const { hidden } = lstm.forward(params, { x, mask }, { training: false });
      const result = await evaluate({ f: hidden[0] as Tensor, b: hidden[1] as Tensor }, {});
      const expected = [...numbers(result.f), ...numbers(result.b)];
      expect(maxDifference(out.slice(step * 6 + 2, step * 6 + 6), expected)).toBeLessThan(1e-12);
    }
  });

  it("errors name the argument", () => {
    expect(() => new WordEncoder({ words: 5, wordDim: 2, charEncoder: "cnn" })).toThrow(
      new HeadsError("WordEncoder", "options.chars", "the size of the character vocabulary", "nothing"),
    );
    expect(
      () => new WordEncoder({ words: 5, wordDim: 2, chars: 3, charEncoder: "cnn", cnnWidth: 2 }),
    ).toThrow("WordEncoder: options.cnnWidth: expected an odd positive integer, got 2");
    expect(() => new WordEncoder({ words: 5, wordDim: 2, chars: 3, charEncoder: "rnn" as "cnn" })).toThrow(
      'WordEncoder: options.charEncoder: expected "bilstm" or "cnn", got "rnn"',
    );
    const encoder = new WordEncoder({ words: 5, wordDim: 2, chars: 3, charEncoder: "cnn" });
    const graph = new Graph();
    const params = bind(encoder.parameters, (path, p) => graph.input(path, "float32", p.shape));
    expect(() =>
      encoder.forward(params, { words: graph.input("w", "int64", ["b", "s"]) }, { training: false }),
    ).toThrow("WordEncoder.forward: input: expected chars and charRows (the encoder spells words), got none");
  });
});
