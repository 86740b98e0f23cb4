import { describe, expect, it } from "vitest";
import { accuracy, createFeatureCrf, encodeSentence, predict, tagSet, tagWords } from "./model.js";
import { TINY_CORPUS } from "./test-utils/tiny-corpus.js";
import { type EpochReport, train } from "./train.js";

const OPTIONS = { epochs: 30, batchSize: 2, learningRate: 0.1, l2: 1e-4, seed: 1 };

function trained(seed = 1) {
  const model = createFeatureCrf(tagSet(TINY_CORPUS), 8);
  const encoded = TINY_CORPUS.map((sentence) => encodeSentence(model, sentence));
  const reports: EpochReport[] = [];
  const result = train(model, encoded, encoded, {
    ...OPTIONS,
    seed,
    onEpoch: (report) => reports.push(report),
  });
  return { model, encoded, result, reports };
}

describe("train", () => {
  it("learns a tiny corpus perfectly, with the loss going down", () => {
    const { model, encoded, result, reports } = trained();
    expect(accuracy(predict(model, encoded), encoded)).toBe(1);
    expect(tagWords(model, ["il-", "kelb", "jiekol"])).toEqual(["DET", "NOUN", "VERB"]);
    expect(reports).toHaveLength(OPTIONS.epochs);
    expect(result.history).toEqual(reports);
    const last = reports.at(-1) as EpochReport;
    expect(last.loss).toBeLessThan((reports[0] as EpochReport).loss / 10);
    expect(last.nll).toBeLessThan(0.05);
    // the kept epoch is the first that reached the best dev accuracy, 100%
    expect(reports[result.bestEpoch - 1]?.devAccuracy).toBe(1);
    expect(reports.slice(0, result.bestEpoch - 1).every((report) => (report.devAccuracy ?? 0) < 1)).toBe(
      true,
    );
  });

  it("is reproducible: the same seed gives the same parameters, another seed other ones", () => {
    const a = trained(7).model;
    const b = trained(7).model;
    const c = trained(8).model;
    expect(a.weights).toEqual(b.weights);
    expect(a.transitions).toEqual(b.transitions);
    expect(a.weights).not.toEqual(c.weights);
  });

  it("reports each step's running mean loss", () => {
    const model = createFeatureCrf(tagSet(TINY_CORPUS), 6);
    const encoded = TINY_CORPUS.map((sentence) => encodeSentence(model, sentence));
    const steps: [number, number, number][] = [];
    train(model, encoded, undefined, {
      ...OPTIONS,
      epochs: 2,
      onStep: (epoch, step, total) => steps.push([epoch, step, total]),
    });
    expect(steps).toEqual([
      [1, 1, 2],
      [1, 2, 2],
      [2, 1, 2],
      [2, 2, 2],
    ]);
  });

  it("rejects bad options", () => {
    const model = createFeatureCrf(["A"], 2);
    const data = [encodeSentence(model, { words: ["x"], tags: ["A"] })];
    expect(() => train(model, data, undefined, { ...OPTIONS, epochs: 0 })).toThrow(
      "train: options.epochs: expected an integer >= 1, got 0",
    );
    expect(() => train(model, data, undefined, { ...OPTIONS, batchSize: 1.5 })).toThrow(
      "train: options.batchSize: expected an integer >= 1, got 1.5",
    );
    expect(() => train(model, data, undefined, { ...OPTIONS, l2: -1 })).toThrow(
      "train: options.l2: expected a finite number >= 0, got -1",
    );
    expect(() => train(model, [], undefined, OPTIONS)).toThrow(
      "train: sentences: expected at least one sentence, got none",
    );
  });
});
