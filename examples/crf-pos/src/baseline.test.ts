import { describe, expect, it } from "vitest";
import { MostFrequentTag } from "./baseline.js";

describe("MostFrequentTag", () => {
  const training = [
    { words: ["il-", "kelb", "jiġri"], tags: ["DET", "NOUN", "VERB"] },
    { words: ["il-", "ġiri", "jiġri"], tags: ["DET", "NOUN", "NOUN"] },
    { words: ["jiġri", "il-", "kelb"], tags: ["VERB", "DET", "NOUN"] },
  ];
  const baseline = new MostFrequentTag(training);

  it("tags each known word with its most frequent tag and unknown words with the overall one", () => {
    // NOUN 4, DET 3, VERB 2 overall; "jiġri" is VERB twice, NOUN once
    expect(baseline.fallback).toBe("NOUN");
    expect(baseline.predict(["il-", "jiġri", "qattus"])).toEqual(["DET", "VERB", "NOUN"]);
  });

  it("breaks ties alphabetically", () => {
    const tied = new MostFrequentTag([{ words: ["x", "x"], tags: ["VERB", "ADJ"] }]);
    expect(tied.predict(["x"])).toEqual(["ADJ"]);
    expect(tied.fallback).toBe("ADJ");
  });

  it("measures token accuracy", () => {
    // predictions DET VERB NOUN | NOUN NOUN VERB: 4 of 6 right
    const test = [
      { words: ["il-", "jiġri", "qattus"], tags: ["DET", "VERB", "NOUN"] },
      { words: ["kelb", "ġiri", "jiġri"], tags: ["NOUN", "VERB", "NOUN"] },
    ];
    expect(baseline.accuracy(test)).toBeCloseTo(4 / 6, 12);
    expect(baseline.accuracy([])).toBe(0);
  });
});
