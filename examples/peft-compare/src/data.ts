import { loadCorpus, loadParallel, sampleN, type TaggedSentence } from "@xlt/data";
import { loadStudyData } from "@xlt/example-layerwise-lr";
import { CompareError } from "./errors.js";

/** Words of sentences, no tags. */
export type Text = readonly (readonly string[])[];

/** The Faroese data the comparison adapts to and measures on. */
export interface CompareData {
  /** Faroese text the masked LM is adapted on. */
  readonly lmTrain: Text;
  /** Held-out Faroese text perplexity is measured on (never trained on, nor pretrained on). */
  readonly lmHeldOut: Text;
  /** Faroese UPOS training sentences (a seeded sample of the treebank's training split). */
  readonly tagTrain: readonly TaggedSentence[];
  /** Faroese UPOS test sentences. */
  readonly tagTest: readonly TaggedSentence[];
  /** The UPOS tags, sorted. */
  readonly tags: readonly string[];
}

/** Languages of the pretraining text: Danish, Swedish and Icelandic; Faroese is the new language. */
export const PRETRAIN_LANGUAGES = ["da", "sv", "is"] as const;

/**
 * The pretraining text by language: the layerwise-lr study's Danish, Swedish and Icelandic text, not
 * its Faroese, so adapting to Faroese is adapting to a language the encoder has not seen (and none of
 * the Faroese text below is in it).
 */
export async function loadPretrainingText(): Promise<Map<string, Text>> {
  const study = await loadStudyData();
  return new Map(
    PRETRAIN_LANGUAGES.flatMap((language) => {
      const text = study.text.get(language);
      return text ? [[language, text] as const] : [];
    }),
  );
}

/**
 * Loads the bundled Faroese data. Language-model text: UD `fo_farpahc` train and the Faroese side of
 * Tatoeba except every fifth line; held out: UD `fo_farpahc` dev and those Tatoeba lines. Tagging:
 * `trainSentences` sentences of `fo_farpahc` train (seeded sample, seed 0) and `fo_farpahc` test.
 */
export async function loadCompareData(trainSentences: number): Promise<CompareData> {
  const [foTrain, foDev, foTest, fao] = await Promise.all([
    loadCorpus("ud/fo_farpahc", "train"),
    loadCorpus("ud/fo_farpahc", "dev"),
    loadCorpus("ud/fo_farpahc", "test"),
    loadParallel("tatoeba/fao", "test"),
  ]);
  if (!Number.isInteger(trainSentences) || trainSentences < 1 || trainSentences > foTrain.length)
    throw new CompareError(
      "loadCompareData",
      "trainSentences",
      `an integer in [1, ${foTrain.length}]`,
      String(trainSentences),
    );
  const words = (sentences: readonly TaggedSentence[]) => sentences.map((sentence) => sentence.words);
  const tatoeba = fao.map((pair) => pair.text.split(/\s+/).filter((word) => word !== ""));
  return {
    lmTrain: [...words(foTrain), ...tatoeba.filter((_, index) => index % 5 !== 4)],
    lmHeldOut: [...words(foDev), ...tatoeba.filter((_, index) => index % 5 === 4)],
    tagTrain: sampleN(foTrain, trainSentences, 0),
    tagTest: foTest,
    tags: [...new Set([...foTrain, ...foDev, ...foTest].flatMap((sentence) => sentence.tags))].sort(),
  };
}
