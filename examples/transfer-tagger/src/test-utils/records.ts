import type { RunRecord } from "../results.js";

/** A run record with plausible fields, overridden by `overrides`. */
export function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    key: "hsb-baseline-seed1",
    target: "hsb",
    task: "pos",
    recipe: "baseline",
    source: null,
    k: null,
    seed: 1,
    score: 0.8,
    dev: 0.81,
    epochs: 3,
    steps: 30,
    seconds: 1.5,
    configHash: "abc",
    labelled: 240,
    sourceSentences: 0,
    pseudoAdded: [],
    sentenceTotals: [
      [3, 4],
      [1, 2],
    ],
    ...overrides,
  };
}
