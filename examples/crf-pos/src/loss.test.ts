import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FEATURES_PER_TOKEN } from "./features.js";
import { lossAndGradient } from "./loss.js";
import {
  createFeatureCrf,
  type EncodedSentence,
  encodeSentence,
  type FeatureCrf,
  zerosLike,
} from "./model.js";
import { Random } from "./random.js";
import { TINY_CORPUS } from "./test-utils/tiny-corpus.js";

/** A model over the tiny corpus with small random parameters. */
function randomModel(seed: number, bits = 4): FeatureCrf {
  const model = createFeatureCrf(["DET", "NOUN", "VERB"], bits);
  const random = new Random(seed);
  for (const array of [model.weights, model.transitions, model.start, model.end]) {
    for (let index = 0; index < array.length; index++) array[index] = random.next() * 2 - 1;
  }
  return model;
}

/** −log p(y | x) by enumerating every tag sequence, straight from the feature-CRF definition. */
function bruteForceNll(model: FeatureCrf, sentence: EncodedSentence): number {
  const K = model.tags.length;
  const L = sentence.length;
  const emission = (t: number, k: number): number => {
    let sum = 0;
    for (let f = 0; f < FEATURES_PER_TOKEN; f++) {
      sum += model.weights[(sentence.features[t * FEATURES_PER_TOKEN + f] as number) * K + k] as number;
    }
    return sum;
  };
  const score = (path: number[]): number => {
    let s = (model.start[path[0] as number] as number) + (model.end[path[L - 1] as number] as number);
    for (let t = 0; t < L; t++) s += emission(t, path[t] as number);
    for (let t = 1; t < L; t++)
      s += model.transitions[(path[t - 1] as number) * K + (path[t] as number)] as number;
    return s;
  };
  const scores: number[] = [];
  for (let code = 0; code < K ** L; code++) {
    scores.push(score(Array.from({ length: L }, (_, t) => Math.floor(code / K ** t) % K)));
  }
  const max = Math.max(...scores);
  const logZ = max + Math.log(scores.reduce((sum, s) => sum + Math.exp(s - max), 0));
  return logZ - score(Array.from(sentence.tags));
}

function squaredNorm(model: FeatureCrf): number {
  let sum = 0;
  for (const array of [model.weights, model.transitions, model.start, model.end])
    for (const x of array) sum += x * x;
  return sum;
}

describe("lossAndGradient", () => {
  it("equals the brute-force mean NLL plus the L2 term", () => {
    fc.assert(
      fc.property(fc.nat(), fc.double({ min: 0, max: 0.5, noNaN: true }), (seed, l2) => {
        const model = randomModel(seed);
        const batch = TINY_CORPUS.map((sentence) => encodeSentence(model, sentence));
        const { loss, nll } = lossAndGradient(model, batch, l2, zerosLike(model));
        const expectedNll =
          batch.reduce((sum, sentence) => sum + bruteForceNll(model, sentence), 0) / batch.length;
        expect(nll).toBeCloseTo(expectedNll, 10);
        expect(loss).toBeCloseTo(expectedNll + (l2 / 2) * squaredNorm(model), 10);
      }),
      { numRuns: 20 },
    );
  });

  it("has the gradient of central finite differences, for every parameter", () => {
    const model = randomModel(3);
    const batch = TINY_CORPUS.map((sentence) => encodeSentence(model, sentence));
    const l2 = 0.1;
    const gradient = zerosLike(model);
    lossAndGradient(model, batch, l2, gradient);
    const h = 1e-5;
    let worst = 0;
    const names = ["weights", "transitions", "start", "end"] as const;
    for (const name of names) {
      const parameter = model[name];
      for (let index = 0; index < parameter.length; index++) {
        const saved = parameter[index] as number;
        parameter[index] = saved + h;
        const plus = lossAndGradient(model, batch, l2, zerosLike(model)).loss;
        parameter[index] = saved - h;
        const minus = lossAndGradient(model, batch, l2, zerosLike(model)).loss;
        parameter[index] = saved;
        const numeric = (plus - minus) / (2 * h);
        worst = Math.max(worst, Math.abs(numeric - (gradient[name][index] as number)));
      }
    }
    expect(worst).toBeLessThan(1e-7);
  });

  it("marginalises a gold tag of -1 (a tag unknown to the model)", () => {
    const model = randomModel(5);
    const known = encodeSentence(model, { words: ["a", "b"], tags: ["DET", "NOUN"] });
    const unknown = encodeSentence(model, { words: ["a", "b"], tags: ["DET", "ADJ"] });
    expect(Array.from(unknown.tags)).toEqual([0, -1]);
    const withUnknown = lossAndGradient(model, [unknown], 0, zerosLike(model)).nll;
    // −log Σ_k p(DET, k) ≤ −log p(DET, NOUN)
    expect(withUnknown).toBeLessThan(lossAndGradient(model, [known], 0, zerosLike(model)).nll);
    const sumOver = Math.log(
      [0, 1, 2].reduce(
        (sum, k) =>
          sum +
          Math.exp(
            -bruteForceNll(model, {
              length: 2,
              features: known.features,
              tags: Int32Array.from([0, k]),
            }),
          ),
        0,
      ),
    );
    expect(withUnknown).toBeCloseTo(-sumOver, 10);
  });
});
