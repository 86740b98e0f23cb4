export { Adam, type AdamOptions } from "./adam.js";
export { MostFrequentTag } from "./baseline.js";
export { TaggerError } from "./errors.js";
export { extractFeatures, FEATURES_PER_TOKEN, tokenFeatures, wordShape } from "./features.js";
export { hashString } from "./hash.js";
export { lossAndGradient } from "./loss.js";
export {
  accuracy,
  batchEmissions,
  createFeatureCrf,
  crfOf,
  type EncodedSentence,
  encodeSentence,
  type FeatureCrf,
  type FeatureCrfArrays,
  predict,
  type Sentence,
  tagSet,
  tagWords,
  zerosLike,
} from "./model.js";
export { loadModel, type SavedModel, saveModel } from "./model-io.js";
export { ProgressBar, type ProgressStream, renderBar } from "./progress.js";
export { Random } from "./random.js";
export { type EpochReport, type TrainOptions, type TrainResult, train } from "./train.js";
