export {
  accuracyOf,
  baselineAccuracy,
  batches,
  buildVocabulary,
  CONTEXT,
  type Examples,
  encode,
  INPUTS,
  type Vocabulary,
  WindowTagger,
} from "./tagger.js";
