import { FEATURES_PER_TOKEN } from "./features.js";
import {
  batchEmissions,
  crfOf,
  type EncodedSentence,
  type FeatureCrf,
  type FeatureCrfArrays,
} from "./model.js";

/** Σ of the squares of every parameter array. */
function squaredNorm(arrays: FeatureCrfArrays): number {
  let sum = 0;
  for (const array of [arrays.weights, arrays.transitions, arrays.start, arrays.end]) {
    for (let index = 0; index < array.length; index++) sum += (array[index] as number) ** 2;
  }
  return sum;
}

/**
 * The training objective on one batch and its gradient:
 *
 *   loss = (1/B) Σ_b −log p(y_b | x_b) + (l2 / 2) ‖θ‖²
 *
 * where θ is every weight, transition, start and end score. The CRF part (and ∂loss/∂emissions,
 * ∂loss/∂transitions, ∂loss/∂start, ∂loss/∂end) comes from `@xlt/crf`'s `nll`; the emission
 * gradient is scattered back onto the weights of the features that fired. Gold tags of `-1`
 * (a tag unseen in training) are marginalised over. Writes the gradient into `gradient`.
 */
export function lossAndGradient(
  model: FeatureCrf,
  batch: readonly EncodedSentence[],
  l2: number,
  gradient: FeatureCrfArrays,
): { loss: number; nll: number } {
  const K = model.tags.length;
  const { data, dims, lengths } = batchEmissions(model, batch);
  const steps = dims[1];
  const gold = new Int32Array(batch.length * steps); // shape: [batch, steps]
  for (let b = 0; b < batch.length; b++) gold.set((batch[b] as EncodedSentence).tags, b * steps);
  const { loss: nll, grad } = crfOf(model).nll(
    { data, dims },
    { data: gold, dims: [batch.length, steps] },
    { lengths },
  );

  const dWeights = gradient.weights;
  const { weights } = model;
  for (let index = 0; index < weights.length; index++) dWeights[index] = l2 * (weights[index] as number);
  const dEmissions = grad.emissions.data; // shape: [batch, steps, K]
  for (let b = 0; b < batch.length; b++) {
    const { length, features } = batch[b] as EncodedSentence;
    for (let t = 0; t < length; t++) {
      const source = (b * steps + t) * K;
      for (let f = 0; f < FEATURES_PER_TOKEN; f++) {
        const row = (features[t * FEATURES_PER_TOKEN + f] as number) * K;
        for (let k = 0; k < K; k++)
          dWeights[row + k] = (dWeights[row + k] as number) + (dEmissions[source + k] as number);
      }
    }
  }
  const pairs: [Float64Array, Float64Array, Float64Array][] = [
    [gradient.transitions, grad.transitions.data, model.transitions],
    [gradient.start, grad.start.data, model.start],
    [gradient.end, grad.end.data, model.end],
  ];
  for (const [out, crfGradient, parameter] of pairs) {
    for (let index = 0; index < out.length; index++) {
      out[index] = (crfGradient[index] as number) + l2 * (parameter[index] as number);
    }
  }
  return { loss: nll + (l2 / 2) * squaredNorm(model), nll };
}
