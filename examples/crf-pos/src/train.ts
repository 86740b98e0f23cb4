import { Adam } from "./adam.js";
import { TaggerError } from "./errors.js";
import { lossAndGradient } from "./loss.js";
import { accuracy, type EncodedSentence, type FeatureCrf, predict, zerosLike } from "./model.js";
import { Random } from "./random.js";

export interface TrainOptions {
  epochs: number;
  /** Sentences per Adam step. */
  batchSize: number;
  learningRate: number;
  /** Coefficient of the L2 penalty (l2 / 2)·‖θ‖² in the per-batch loss. */
  l2: number;
  /** Seeds the order in which sentences are visited each epoch. */
  seed: number;
  /** Called after every step with the running mean loss of the epoch so far. */
  onStep?: (epoch: number, step: number, steps: number, meanLoss: number) => void;
  /** Called at the end of every epoch. */
  onEpoch?: (report: EpochReport) => void;
}

export interface EpochReport {
  /** 1-based. */
  epoch: number;
  /** Mean over the epoch's steps of the batch loss (mean NLL per sentence + L2 term). */
  loss: number;
  /** Mean NLL per sentence over the epoch's steps. */
  nll: number;
  /** Token accuracy on the development sentences after the epoch (when given). */
  devAccuracy?: number;
}

export interface TrainResult {
  history: EpochReport[];
  /** The epoch whose parameters the model holds at the end: the best on dev, else the last. */
  bestEpoch: number;
}

/**
 * Minibatch Adam on the feature CRF's L2-regularised NLL, in place. With `dev` sentences the model
 * is evaluated after each epoch and ends holding the parameters of the epoch with the best dev
 * accuracy (the earliest among ties). Deterministic for a given seed.
 */
export function train(
  model: FeatureCrf,
  sentences: readonly EncodedSentence[],
  dev: readonly EncodedSentence[] | undefined,
  options: TrainOptions,
): TrainResult {
  const { epochs, batchSize, learningRate, l2, seed } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new TaggerError("train", "options.epochs", "an integer >= 1", String(epochs));
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new TaggerError("train", "options.batchSize", "an integer >= 1", String(batchSize));
  }
  if (!(l2 >= 0) || !Number.isFinite(l2))
    throw new TaggerError("train", "options.l2", "a finite number >= 0", String(l2));
  if (sentences.length < 1) throw new TaggerError("train", "sentences", "at least one sentence", "none");

  const parameters = [model.weights, model.transitions, model.start, model.end];
  const gradient = zerosLike(model);
  const gradients = [gradient.weights, gradient.transitions, gradient.start, gradient.end];
  const adam = new Adam(parameters, { learningRate });
  const random = new Random(seed);
  const order = sentences.map((_, index) => index);
  const steps = Math.ceil(sentences.length / batchSize);
  const history: EpochReport[] = [];
  let best: { epoch: number; accuracy: number; copy: Float64Array[] } | undefined;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    random.shuffle(order);
    let lossSum = 0;
    let nllSum = 0;
    for (let step = 0; step < steps; step++) {
      const batch = order
        .slice(step * batchSize, (step + 1) * batchSize)
        .map((index) => sentences[index] as EncodedSentence);
      const { loss, nll } = lossAndGradient(model, batch, l2, gradient);
      adam.step(gradients);
      lossSum += loss;
      nllSum += nll;
      options.onStep?.(epoch, step + 1, steps, lossSum / (step + 1));
    }
    const report: EpochReport = { epoch, loss: lossSum / steps, nll: nllSum / steps };
    if (dev !== undefined && dev.length > 0) {
      report.devAccuracy = accuracy(predict(model, dev), dev);
      if (best === undefined || report.devAccuracy > best.accuracy) {
        best = { epoch, accuracy: report.devAccuracy, copy: parameters.map((p) => p.slice()) };
      }
    }
    history.push(report);
    options.onEpoch?.(report);
  }
  if (best !== undefined && best.epoch !== epochs) {
    parameters.forEach((p, index) => {
      p.set(best.copy[index] as Float64Array);
    });
  }
  return { history, bestEpoch: best?.epoch ?? epochs };
}
