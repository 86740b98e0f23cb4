import { loadCorpus, loadParallel, type TaggedSentence } from "@xlt/data";

/** A tagged evaluation set of one language. */
export interface Evaluation {
  readonly language: string;
  readonly role: "source" | "target";
  readonly corpus: string;
  readonly sentences: readonly TaggedSentence[];
}

/** Everything the study reads from the bundled corpora. */
export interface StudyData {
  /** Raw text for masked-LM pretraining, by language: words of sentences, no tags. */
  readonly text: ReadonlyMap<string, readonly (readonly string[])[]>;
  /** Source-language (Danish) sentences the tagger is fine-tuned on. */
  readonly train: readonly TaggedSentence[];
  /** Held-out source sentences and the zero-shot target sets. */
  readonly evaluations: readonly Evaluation[];
  /** The UPOS tags, in a fixed order. */
  readonly tags: readonly string[];
}

/** Icelandic has one bundled split: its first sentences are pretraining text, the rest the test set. */
export const ICELANDIC_TEXT = 150;

/**
 * Source task: UPOS tagging of Danish (UD `da_ddt` dev, the bundled Danish UD split), every fifth
 * sentence held out. Targets, zero-shot: Faroese (UD `fo_farpahc` test) and Icelandic (UD
 * `is_modern` dev after its first {@link ICELANDIC_TEXT} sentences). Pretraining text never contains
 * an evaluation sentence: Danish UNER train (the DDT train sentences), Swedish UNER (Talbanken dev and
 * test), Faroese UD train and the Faroese side of Tatoeba, and the first Icelandic sentences.
 */
export async function loadStudyData(): Promise<StudyData> {
  const [daDev, foTrain, foTest, isDev, daText, svDev, svTest, fao] = await Promise.all([
    loadCorpus("ud/da_ddt", "dev"),
    loadCorpus("ud/fo_farpahc", "train"),
    loadCorpus("ud/fo_farpahc", "test"),
    loadCorpus("ud/is_modern", "dev"),
    loadCorpus("uner/da_ddt", "train"),
    loadCorpus("uner/sv_talbanken", "dev"),
    loadCorpus("uner/sv_talbanken", "test"),
    loadParallel("tatoeba/fao", "test"),
  ]);
  const words = (sentences: readonly TaggedSentence[]) => sentences.map((sentence) => sentence.words);
  const tatoeba = fao.map((pair) => pair.text.split(/\s+/).filter((word) => word !== ""));
  const text = new Map<string, readonly (readonly string[])[]>([
    ["da", words(daText)],
    ["sv", [...words(svDev), ...words(svTest)]],
    ["fo", [...words(foTrain), ...tatoeba]],
    ["is", words(isDev.slice(0, ICELANDIC_TEXT))],
  ]);
  const train = daDev.filter((_, index) => index % 5 !== 4);
  const heldOut = daDev.filter((_, index) => index % 5 === 4);
  const evaluations: Evaluation[] = [
    { language: "da", role: "source", corpus: "ud/da_ddt dev (every 5th)", sentences: heldOut },
    { language: "fo", role: "target", corpus: "ud/fo_farpahc test", sentences: foTest },
    {
      language: "is",
      role: "target",
      corpus: `ud/is_modern dev (from sentence ${ICELANDIC_TEXT + 1})`,
      sentences: isDev.slice(ICELANDIC_TEXT),
    },
  ];
  const tags = [...new Set([...daDev, ...foTest, ...isDev].flatMap((sentence) => sentence.tags))].sort();
  return { text, train, evaluations, tags };
}
