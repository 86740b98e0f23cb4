export { TaggerError } from "./errors.js";
export {
  accuracyOf,
  baselineAccuracy,
  batches,
  buildVocabulary,
  CONTEXT,
  datasetAccuracy,
  type Examples,
  encode,
  INPUTS,
  type Vocabulary,
  WindowTagger,
} from "./tagger.js";
