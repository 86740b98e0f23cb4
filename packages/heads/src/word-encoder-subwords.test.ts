import { evaluate, Graph, grad, mul, reduceSum, type Tensor } from "@xlt/graph";
import { bind, flatten, initialize } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { maxDifference, numbers } from "./test-utils/values.js";
import { WordEncoder } from "./word-encoder.js";

// Two sentences of 3 and 1 words (one padded step); four word rows with 2, 1, 3 and 1 pieces (0 pads),
// piece 4 used by two words and twice by one of them.
const words = BigInt64Array.from([2n, 3n, 4n, 1n, 0n, 0n]);
const pieces = BigInt64Array.from([1n, 4n, 0n, 2n, 0n, 0n, 4n, 3n, 4n, 5n, 0n, 0n]);
const pieceRows = BigInt64Array.from([0n, 1n, 2n, 3n, 0n, 0n]);
const chars = BigInt64Array.from([2n, 3n, 4n, 0n, 3n, 2n, 2n, 2n]);
const charRows = BigInt64Array.from([0n, 1n, 2n, 3n, 0n, 0n]);
const [B, T, P, D, W] = [2, 3, 3, 3, 2];

function pieceIds(row: number): number[] {
  return Array.from(pieces.subarray(row * P, row * P + P), Number).filter((id) => id !== 0);
}

async function run(
  encoder: WordEncoder,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
  spelled: boolean,
) {
  const graph = new Graph();
  const params = bind(encoder.parameters, (path, p) => graph.input(path, "float64", p.shape));
  const input = {
    words: graph.input("words", "int64", ["batch", "steps"]),
    pieces: graph.input("pieces", "int64", ["words", "pieces"]),
    pieceRows: graph.input("pieceRows", "int64", ["batch", "steps"]),
    ...(spelled
      ? {
          chars: graph.input("chars", "int64", ["words", "chars"]),
          charRows: graph.input("charRows", "int64", ["batch", "steps"]),
        }
      : {}),
  };
  const out = encoder.forward(params, input, { training: false });
  const r = graph.constant(
    Float64Array.from({ length: B * T * encoder.outputSize }, (_, i) => Math.cos(1 + i)),
    [B, T, encoder.outputSize],
  );
  const loss = reduceSum(mul(out, r));
  const table = graph.inputs.find((t) => t.name === "subwords.weight") as Tensor;
  const [dTable] = grad(loss, [table]) as Tensor[];
  const feeds: Record<string, { data: Float64Array | BigInt64Array; dims: number[] }> = {
    words: { data: words, dims: [B, T] },
    pieces: { data: pieces, dims: [4, P] },
    pieceRows: { data: pieceRows, dims: [B, T] },
    ...(spelled ? { chars: { data: chars, dims: [4, 2] }, charRows: { data: charRows, dims: [B, T] } } : {}),
  };
  for (const [path, parameter] of flatten(encoder.parameters))
    feeds[path] = { data: values.get(path) as Float64Array, dims: [...parameter.shape] };
  const result = await evaluate({ out, dTable: dTable as Tensor }, feeds);
  return { out: numbers(result.out), dTable: numbers(result.dTable), r: (i: number) => Math.cos(1 + i) };
}

describe("WordEncoder subwords", () => {
  it("appends the mean of each word's piece embeddings; its gradient spreads 1/count to each piece (brute force)", {
    timeout: 30_000,
  }, async () => {
    const encoder = new WordEncoder({ words: 5, wordDim: W, subwords: 6, subwordDim: D, dtype: "float64" });
    expect(encoder.outputSize).toBe(W + D);
    const values = initialize(encoder.parameters, 7);
    const table = values.get("subwords.weight") as Float64Array;
    const wordTable = values.get("words.weight") as Float64Array;
    const { out, dTable, r } = await run(encoder, values, false);
    const F = W + D;
    const expected: number[] = [];
    const expectedGrad = new Float64Array(6 * D);
    for (let step = 0; step < B * T; step += 1) {
      const id = Number(words[step]);
      const ids = pieceIds(Number(pieceRows[step]));
      const mean = Array.from(
        { length: D },
        (_, d) => ids.reduce((sum, piece) => sum + (table[piece * D + d] ?? 0), 0) / ids.length,
      );
      expected.push(...Array.from(wordTable.subarray(id * W, id * W + W)), ...mean);
      for (const piece of ids)
        for (let d = 0; d < D; d += 1)
          expectedGrad[piece * D + d] = (expectedGrad[piece * D + d] ?? 0) + r(step * F + W + d) / ids.length;
    }
    expect(maxDifference(out, expected)).toBeLessThan(1e-12);
    expect(maxDifference(dTable, Array.from(expectedGrad))).toBeLessThan(1e-12);
    // Padding (piece 0) neither counts nor receives a gradient.
    expect(dTable.slice(0, D)).toEqual([0, 0, 0]);
  });

  it("with a char CNN the layout is word ⊕ characters ⊕ pieces, and the gradient matches central differences", {
    timeout: 30_000,
  }, async () => {
    const encoder = new WordEncoder({
      words: 5,
      wordDim: W,
      chars: 5,
      charEncoder: "cnn",
      charDim: 2,
      charHidden: 2,
      subwords: 6,
      subwordDim: D,
      dtype: "float64",
    });
    expect(encoder.outputSize).toBe(W + 2 + D);
    const values = initialize(encoder.parameters, 3);
    const base = await run(encoder, values, true);
    const table = values.get("subwords.weight") as Float64Array;
    const F = encoder.outputSize;
    for (let step = 0; step < B * T; step += 1) {
      const ids = pieceIds(Number(pieceRows[step]));
      const mean = Array.from(
        { length: D },
        (_, d) => ids.reduce((sum, piece) => sum + (table[piece * D + d] ?? 0), 0) / ids.length,
      );
      expect(maxDifference(base.out.slice(step * F + W + 2, step * F + F), mean)).toBeLessThan(1e-12);
    }
    const h = 1e-6;
    const lossOf = (out: number[]) => out.reduce((sum, v, i) => sum + v * base.r(i), 0);
    for (const index of [D * 1 + 0, D * 4 + 2, D * 5 + 1]) {
      const shifted = (delta: number) => {
        const copy = new Map(values);
        const t = Float64Array.from(table);
        t[index] = (t[index] ?? 0) + delta;
        copy.set("subwords.weight", t);
        return run(encoder, copy, true);
      };
      const fd = (lossOf((await shifted(h)).out) - lossOf((await shifted(-h)).out)) / (2 * h);
      expect(Math.abs((base.dTable[index] ?? 0) - fd)).toBeLessThan(1e-7);
    }
  });

  it("errors name the argument", () => {
    expect(() => new WordEncoder({ words: 5, wordDim: 2, subwords: 1 })).toThrow(
      new HeadsError(
        "WordEncoder",
        "options.subwords",
        "an integer >= 2 (padding and at least one piece)",
        "1",
      ),
    );
    expect(() => new WordEncoder({ words: 5, wordDim: 2, subwords: 4, subwordDim: 0 })).toThrow(
      "WordEncoder: options.subwordDim: expected a positive integer, got 0",
    );
    const encoder = new WordEncoder({ words: 5, wordDim: 2, subwords: 4 });
    const graph = new Graph();
    const params = bind(encoder.parameters, (path, p) => graph.input(path, "float32", p.shape));
    expect(() =>
      encoder.forward(params, { words: graph.input("w", "int64", ["b", "s"]) }, { training: false }),
    ).toThrow(
      "WordEncoder.forward: input: expected pieces and pieceRows (the encoder has subwords), got none",
    );
  });
});
