import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entityCounts, f1Score, scoresFromCounts } from "./report.js";
import { sentenceStatistics } from "./sentence-statistics.js";

const TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "O"];
const pair = fc
  .array(fc.array(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 8 })
  .chain((yTrue) =>
    fc.tuple(
      fc.constant(yTrue),
      fc.tuple(
        ...yTrue.map((s) => fc.array(fc.constantFrom(...TAGS), { minLength: s.length, maxLength: s.length })),
      ),
    ),
  );

describe("sentenceStatistics", () => {
  it("lays out [tp, predicted, gold] per type for each sentence", () => {
    const stats = sentenceStatistics(
      [
        ["B-PER", "O"],
        ["B-LOC", "I-LOC"],
      ],
      [
        ["B-PER", "B-LOC"],
        ["B-LOC", "O"],
      ],
    );
    expect(stats.types).toEqual(["LOC", "PER"]);
    expect(stats.dims).toEqual([2, 6]);
    expect([...stats.data]).toEqual([0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0]);
  });

  it("sums to the corpus counts, so resampled sums give the corpus F1", () => {
    fc.assert(
      fc.property(pair, fc.constantFrom("default" as const, "strict" as const), ([yTrue, yPred], mode) => {
        const options = mode === "strict" ? { mode, scheme: "IOB2" as const } : { mode };
        const stats = sentenceStatistics(yTrue, yPred, options);
        const counts = entityCounts(yTrue, yPred, options);
        expect(stats.types).toEqual(counts.types);
        const [rows, width] = stats.dims;
        const totals = new Array<number>(width).fill(0);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < width; c++) totals[c]! += stats.data[r * width + c]!;
        let tp = 0;
        let predicted = 0;
        let gold = 0;
        counts.types.forEach((_, t) => {
          expect(totals.slice(3 * t, 3 * t + 3)).toEqual([
            counts.truePositives[t],
            counts.predicted[t],
            counts.gold[t],
          ]);
          tp += totals[3 * t]!;
          predicted += totals[3 * t + 1]!;
          gold += totals[3 * t + 2]!;
        });
        expect(scoresFromCounts(tp, predicted, gold).f1).toBe(f1Score(yTrue, yPred, options));
      }),
    );
  });
});
