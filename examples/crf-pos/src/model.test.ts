import { describe, expect, it } from "vitest";
import { FEATURES_PER_TOKEN } from "./features.js";
import { accuracy, batchEmissions, createFeatureCrf, encodeSentence, tagSet } from "./model.js";
import { TINY_CORPUS } from "./test-utils/tiny-corpus.js";

describe("createFeatureCrf", () => {
  it("starts with every score zero", () => {
    const model = createFeatureCrf(["A", "B"], 3);
    expect(model.weights).toEqual(new Float64Array(16));
    expect(model.transitions).toEqual(new Float64Array(4));
    expect(model.start).toEqual(new Float64Array(2));
  });

  it("rejects bad tags and bucket counts", () => {
    expect(() => createFeatureCrf([], 3)).toThrow(
      "createFeatureCrf: tags: expected at least one tag, got none",
    );
    expect(() => createFeatureCrf(["A", "A"], 3)).toThrow(
      "createFeatureCrf: tags: expected distinct tag names, got [A, A]",
    );
    expect(() => createFeatureCrf(["A"], 25)).toThrow(
      "createFeatureCrf: bits: expected an integer in 1..24, got 25",
    );
  });
});

describe("encodeSentence / tagSet", () => {
  it("maps tags to sorted indices and unknown tags to -1", () => {
    expect(tagSet(TINY_CORPUS)).toEqual(["DET", "NOUN", "VERB"]);
    const model = createFeatureCrf(tagSet(TINY_CORPUS), 4);
    const encoded = encodeSentence(model, { words: ["a", "b"], tags: ["VERB", "X"] });
    expect(Array.from(encoded.tags)).toEqual([2, -1]);
    expect(encoded.features).toHaveLength(2 * FEATURES_PER_TOKEN);
  });

  it("rejects an empty sentence or a tag count that differs from the word count", () => {
    const model = createFeatureCrf(["A"], 4);
    expect(() => encodeSentence(model, { words: ["a"], tags: [] })).toThrow(
      "encodeSentence: sentence: expected at least one word and one tag per word, got 1 words and 0 tags",
    );
  });
});

describe("batchEmissions", () => {
  it("sums the weights of each token's features and pads the batch with zeros", () => {
    const model = createFeatureCrf(["A", "B"], 4);
    model.weights.forEach((_, index) => {
      model.weights[index] = index;
    });
    const short = encodeSentence(model, { words: ["x"], tags: ["A"] });
    const long = encodeSentence(model, { words: ["y", "z"], tags: ["A", "B"] });
    const { data, dims, lengths } = batchEmissions(model, [short, long]);
    expect(dims).toEqual([2, 2, 2]);
    expect(lengths).toEqual([1, 2]);
    const expected = (sentence: typeof short, t: number, k: number): number =>
      Array.from(sentence.features.subarray(t * FEATURES_PER_TOKEN, (t + 1) * FEATURES_PER_TOKEN)).reduce(
        (sum, f) => sum + 2 * f + k,
        0,
      );
    expect(Array.from(data)).toEqual([
      expected(short, 0, 0),
      expected(short, 0, 1),
      0,
      0,
      expected(long, 0, 0),
      expected(long, 0, 1),
      expected(long, 1, 0),
      expected(long, 1, 1),
    ]);
  });
});

describe("accuracy", () => {
  const model = createFeatureCrf(["A", "B"], 2);
  const gold = [encodeSentence(model, { words: ["x", "y"], tags: ["A", "B"] })];

  it("counts matching tokens", () => {
    expect(accuracy([[0, 0]], gold)).toBe(0.5);
    expect(accuracy([[0, 1]], gold)).toBe(1);
  });

  it("rejects predictions that do not line up with the gold sentences", () => {
    expect(() => accuracy([], gold)).toThrow("accuracy: predicted: expected 1 sentences, got 0");
    expect(() => accuracy([[0]], gold)).toThrow("accuracy: predicted[0]: expected 2 tags, got 1");
  });
});
