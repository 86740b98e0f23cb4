import {
  loadCorpus,
  loadParallel,
  seededPermutation,
  shuffled,
  type TaggedSentence,
  UPOS_TAGS,
} from "@xlt/data";
import { HqlError } from "./errors.js";

/** The six bundled languages with UPOS data: North Germanic and West Slavic. */
export const LANGUAGES = ["fo", "is", "da", "hsb", "cs", "sk"] as const;
export type Language = (typeof LANGUAGES)[number];

/** Where a language's data comes from: UD treebank splits (tagged), and extra raw text. */
interface Sources {
  readonly tagged: readonly (readonly [corpus: string, split: "train" | "dev" | "test"])[];
  readonly uner?: string;
  readonly tatoeba?: string;
}

/**
 * The bundled corpora of each language. Every tagged sentence of the listed UD splits forms the
 * language's pool. Extra raw text: the Universal NER training split of the same treebank (the DDT
 * and SNK training sentences, disjoint from the UD dev splits used here) and Tatoeba sentences.
 */
const SOURCES: Readonly<Record<Language, Sources>> = {
  fo: {
    tagged: [
      ["ud/fo_farpahc", "train"],
      ["ud/fo_farpahc", "dev"],
      ["ud/fo_farpahc", "test"],
    ],
    tatoeba: "tatoeba/fao",
  },
  is: { tagged: [["ud/is_modern", "dev"]] },
  da: { tagged: [["ud/da_ddt", "dev"]], uner: "uner/da_ddt" },
  hsb: { tagged: [["ud/hsb_ufal", "test"]], tatoeba: "tatoeba/hsb" },
  cs: { tagged: [["ud/cs_cac", "dev"]] },
  sk: { tagged: [["ud/sk_snk", "dev"]], uner: "uner/sk_snk" },
};

/** One language's tagging data. */
export interface LanguageData {
  readonly language: Language;
  /** The UD splits pooled. */
  readonly corpus: string;
  /** `trainSize` sentences: the low-resource training set. */
  readonly train: readonly TaggedSentence[];
  /** `testSize` sentences, never in the training set or the pretraining text. */
  readonly test: readonly TaggedSentence[];
}

/** Everything the comparison reads from the bundled corpora. */
export interface HqlData {
  readonly languages: readonly LanguageData[];
  /** Raw text for the base's masked-LM pretraining, by language: words of sentences, no tags. */
  readonly text: ReadonlyMap<string, readonly (readonly string[])[]>;
  /** The 17 UPOS tags. */
  readonly tags: readonly string[];
}

/** What the data depend on. */
export interface DataOptions {
  readonly trainSize: number;
  readonly testSize: number;
  readonly textCap: number;
  readonly dataSeed: number;
}

/**
 * Each language's UD sentences pooled (a repeated sentence once) and permuted with `dataSeed`: the
 * first `testSize` are its test set, the next `trainSize` its training set. The pretraining text of
 * a language is every pooled sentence outside the test set (the training sentences included, as raw
 * text) plus its extra text without the test sentences, at most `textCap` sentences drawn with
 * `dataSeed`: no test sentence is in the training set or the text.
 */
export async function loadHqlData(options: DataOptions): Promise<HqlData> {
  const languages: LanguageData[] = [];
  const text = new Map<string, readonly (readonly string[])[]>();
  for (const language of LANGUAGES) {
    const sources = SOURCES[language];
    // A sentence a treebank repeats (headings, short replies) is kept once, so that no test
    // sentence can also be a training sentence.
    const seen = new Set<string>();
    const pool = (await Promise.all(sources.tagged.map(([corpus, split]) => loadCorpus(corpus, split))))
      .flat()
      .filter((sentence) => {
        const key = sentence.words.join(" ");
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    const room = pool.length - options.testSize;
    if (options.trainSize > room)
      throw new HqlError(
        "loadHqlData",
        "trainSize",
        `at most ${Math.max(0, room)} for ${language} (${pool.length} distinct sentences bundled, ${options.testSize} kept for testing)`,
        String(options.trainSize),
      );
    const order = seededPermutation(pool.length, options.dataSeed);
    const pick = (from: number, to: number) =>
      order.slice(from, to).map((index) => pool[index] as TaggedSentence);
    const test = pick(0, options.testSize);
    const train = pick(options.testSize, options.testSize + options.trainSize);
    const rest = pick(options.testSize, pool.length).map((sentence) => sentence.words);
    const extra: (readonly string[])[] = [];
    if (sources.uner)
      extra.push(...(await loadCorpus(sources.uner, "train")).map((sentence) => sentence.words));
    if (sources.tatoeba)
      extra.push(
        ...(await loadParallel(sources.tatoeba, "test")).map((pair) =>
          pair.text.split(/\s+/).filter((word) => word !== ""),
        ),
      );
    const tested = new Set(test.map((sentence) => sentence.words.join(" ")));
    const unseen = extra.filter((words) => !tested.has(words.join(" ")));
    text.set(language, shuffled([...rest, ...unseen], options.dataSeed).slice(0, options.textCap));
    languages.push({
      language,
      corpus: sources.tagged.map(([corpus, split]) => `${corpus} ${split}`).join(" + "),
      train,
      test,
    });
  }
  return { languages, text, tags: [...UPOS_TAGS] };
}
