import { describe, expect, it } from "vitest";
import { accuracyScore, tokenAccuracy } from "./accuracy.js";
import { f1Score } from "./report.js";

describe("accuracyScore", () => {
  it("counts tags, not entities: it is not an F1", () => {
    const yTrue = [["O", "O", "O", "O", "B-PER", "I-PER"]];
    const yPred = [["O", "O", "O", "O", "B-PER", "O"]];
    expect(accuracyScore(yTrue, yPred)).toBe(5 / 6);
    expect(f1Score(yTrue, yPred)).toBe(0);
  });

  it("refuses a corpus without tags", () => {
    expect(() => accuracyScore([[]], [[]])).toThrow(
      "accuracyScore: yTrue: expected at least one tag, got 0 tags",
    );
  });
});

describe("tokenAccuracy", () => {
  it("leaves ignored gold labels out of both counts", () => {
    expect(tokenAccuracy([[1, 2, -100, -100]], [[1, 3, 5, 5]], { ignore: [-100] })).toEqual({
      accuracy: 0.5,
      correct: 1,
      total: 2,
    });
    expect(tokenAccuracy([["a", "b"]], [["a", "b"]]).accuracy).toBe(1);
  });

  it("names mismatched and empty inputs", () => {
    expect(() => tokenAccuracy(JSON.parse("1"), [])).toThrow(
      "tokenAccuracy: yTrue: expected an array of label sequences, got number",
    );
    expect(() => tokenAccuracy([], JSON.parse("1"))).toThrow(
      "tokenAccuracy: yPred: expected an array of label sequences, got number",
    );
    expect(() => tokenAccuracy([[1]], [])).toThrow(
      "tokenAccuracy: yPred: expected 1 sequences like yTrue, got 0",
    );
    expect(() => tokenAccuracy([[1, 2]], [[1]])).toThrow(
      "tokenAccuracy: yPred[0]: expected 2 labels like yTrue[0], got 1",
    );
    expect(() => tokenAccuracy([[-100]], [[1]], { ignore: [-100] })).toThrow(
      "tokenAccuracy: yTrue: expected at least one label that is not ignored, got 0",
    );
  });
});
