import { f1Score } from "@xlt/metrics";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TransferError } from "./errors.js";
import { scoreFromTotals, sentenceTotals, taskScore } from "./model.js";

const gold = [
  { words: ["a", "b", "c"], tags: ["B-PER", "I-PER", "O"] },
  { words: ["d", "e"], tags: ["B-LOC", "O"] },
  { words: ["f"], tags: ["O"] },
];

describe("scores", () => {
  it("POS: token accuracy; per-sentence [correct, tokens] sum to it", () => {
    const predicted = [["B-PER", "O", "O"], ["B-LOC", "O"], ["B-ORG"]];
    expect(taskScore("pos", gold, predicted)).toBeCloseTo(4 / 6, 12);
    const totals = sentenceTotals("pos", gold, predicted);
    expect(totals).toEqual([
      [2, 3],
      [2, 2],
      [0, 1],
    ]);
    expect(scoreFromTotals("pos", [4, 6])).toBeCloseTo(4 / 6, 12);
  });

  it("NER: seqeval entity F1; per-sentence [tp, predicted, gold] sum to it (hand count)", () => {
    // Gold: PER(0-1), LOC(0). Predicted: PER(0) (wrong span), LOC(0) (right), ORG(0) (spurious).
    const predicted = [["B-PER", "O", "O"], ["B-LOC", "O"], ["B-ORG"]];
    const totals = sentenceTotals("ner", gold, predicted);
    expect(totals).toEqual([
      [0, 1, 1],
      [1, 1, 1],
      [0, 1, 0],
    ]);
    // tp 1, predicted 3, gold 2: P = 1/3, R = 1/2, F1 = 0.4.
    expect(taskScore("ner", gold, predicted)).toBeCloseTo(0.4, 12);
    expect(scoreFromTotals("ner", [1, 3, 2])).toBeCloseTo(0.4, 12);
    expect(scoreFromTotals("ner", [0, 0, 0])).toBe(0);
    expect(() => taskScore("ner", gold, [])).toThrow(
      new TransferError("taskScore", "predicted", "3 sentences", "0"),
    );
  });

  it("summed sentence totals give seqeval's micro F1 on random taggings (fast-check)", () => {
    const tag = fc.constantFrom("O", "B-PER", "I-PER", "B-LOC", "I-LOC");
    const pair = fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc.tuple(
          fc.array(tag, { minLength: n, maxLength: n }),
          fc.array(tag, { minLength: n, maxLength: n }),
        ),
      );
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 6 }), (pairs) => {
        const sentences = pairs.map(([tags]) => ({ words: tags.map((_, i) => `w${i}`), tags }));
        const predicted = pairs.map(([, p]) => p);
        const summed = [0, 0, 0];
        for (const row of sentenceTotals("ner", sentences, predicted))
          row.forEach((v, i) => {
            summed[i] = (summed[i] ?? 0) + v;
          });
        const expected = f1Score(
          sentences.map((s) => s.tags),
          predicted,
        );
        expect(Math.abs(scoreFromTotals("ner", summed) - expected)).toBeLessThan(1e-12);
      }),
    );
  });
});
