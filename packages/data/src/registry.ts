import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type ConlluTagColumn, conlluToTagged, readConllu, UPOS_TAGS, untaggedWord } from "./conllu.js";
import { DataError, show } from "./errors.js";
import { type LanguageInfo, languageInfo } from "./languages.js";
import type { TaggedSentence } from "./types.js";
import { readUner, unerToTagged } from "./uner.js";

/** The splits a bundled corpus may have. */
export type Split = "train" | "dev" | "test";

/** What a corpus is annotated for. */
export type CorpusTask = "pos" | "ner" | "parallel";

/** The on-disk format of a bundled corpus. */
export type CorpusFormat = "conllu" | "iob2" | "tatoeba";

/** Size of one split: sentences (parallel: sentence pairs) and words (UD: syntactic words; Tatoeba: whitespace tokens of the non-English side). */
export interface SplitSize {
  sentences: number;
  tokens: number;
}

/** Everything known about a bundled corpus. */
export interface CorpusInfo {
  /** `<dataset>/<name>`, e.g. `ud/hsb_ufal`. */
  name: string;
  dataset: "ud" | "uner" | "tatoeba";
  language: LanguageInfo;
  task: CorpusTask;
  format: CorpusFormat;
  /** Tags: UPOS for UD, IOB2 over PER/ORG/LOC for UNER, none for Tatoeba. */
  tagSet: readonly string[];
  splits: Partial<Record<Split, SplitSize>>;
  license: string;
  /** Whom to credit and what to cite; the full text lies beside the files (LICENSE.txt, README, SOURCE.md). */
  attribution: string;
  /** Absolute path of the folder holding the corpus and its license files. */
  directory: string;
}

const NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"];

const UD_ATTRIBUTION =
  "Universal Dependencies (de Marneffe et al., Computational Linguistics 47(2), 2021) and the treebank's authors; see UD_README.md and ../SOURCE.md";
const UNER_ATTRIBUTION =
  "Universal NER v1 (Mayhew et al., NAACL 2024) on the UD treebank of the same name; see UNER_README.md and ../SOURCE.md";
const TATOEBA_ATTRIBUTION =
  "Tatoeba (https://tatoeba.org) and its contributors, via the LASER Tatoeba test set (Artetxe & Schwenk, TACL 2019); see ../LICENSE.txt and ../SOURCE.md";

interface Entry {
  name: string;
  language: string;
  splits: Partial<Record<Split, SplitSize>>;
}

const UD: readonly Entry[] = [
  {
    name: "mt_mudt",
    language: "mt",
    splits: {
      train: { sentences: 1123, tokens: 22880 },
      dev: { sentences: 433, tokens: 10209 },
      test: { sentences: 518, tokens: 11073 },
    },
  },
  {
    name: "fo_farpahc",
    language: "fo",
    splits: {
      train: { sentences: 1020, tokens: 23094 },
      dev: { sentences: 300, tokens: 8746 },
      test: { sentences: 301, tokens: 8644 },
    },
  },
  { name: "hsb_ufal", language: "hsb", splits: { test: { sentences: 644, tokens: 11167 } } },
  { name: "cs_cac", language: "cs", splits: { dev: { sentences: 603, tokens: 10912 } } },
  { name: "sk_snk", language: "sk", splits: { dev: { sentences: 1060, tokens: 12754 } } },
  { name: "da_ddt", language: "da", splits: { dev: { sentences: 564, tokens: 10332 } } },
  { name: "is_modern", language: "is", splits: { dev: { sentences: 394, tokens: 8431 } } },
];

const UNER: readonly Entry[] = [
  {
    name: "da_ddt",
    language: "da",
    splits: {
      train: { sentences: 4383, tokens: 80378 },
      dev: { sentences: 564, tokens: 10332 },
      test: { sentences: 565, tokens: 10023 },
    },
  },
  {
    name: "sk_snk",
    language: "sk",
    splits: {
      train: { sentences: 8483, tokens: 80628 },
      dev: { sentences: 1060, tokens: 12733 },
      test: { sentences: 1061, tokens: 12736 },
    },
  },
  {
    name: "sv_talbanken",
    language: "sv",
    splits: { dev: { sentences: 504, tokens: 9797 }, test: { sentences: 1219, tokens: 20377 } },
  },
];

const TATOEBA: readonly Entry[] = [
  { name: "hsb", language: "hsb", splits: { test: { sentences: 483, tokens: 2216 } } },
  { name: "fao", language: "fo", splits: { test: { sentences: 262, tokens: 1452 } } },
];

const CORPORA_DIR = fileURLToPath(new URL("../corpora/", import.meta.url));

function build(): CorpusInfo[] {
  const infos: CorpusInfo[] = [];
  const add = (dataset: CorpusInfo["dataset"], entry: Entry): void => {
    const common = {
      name: `${dataset}/${entry.name}`,
      dataset,
      language: languageInfo(entry.language),
      splits: entry.splits,
      directory: `${CORPORA_DIR}${dataset}/${entry.name}`,
    };
    if (dataset === "ud") {
      infos.push({
        ...common,
        task: "pos",
        format: "conllu",
        tagSet: UPOS_TAGS,
        license: "CC BY-SA 4.0",
        attribution: UD_ATTRIBUTION,
      });
    } else if (dataset === "uner") {
      infos.push({
        ...common,
        task: "ner",
        format: "iob2",
        tagSet: NER,
        license: "CC BY-SA 4.0",
        attribution: UNER_ATTRIBUTION,
      });
    } else {
      infos.push({
        ...common,
        task: "parallel",
        format: "tatoeba",
        tagSet: [],
        license: "CC BY 2.0 FR",
        attribution: TATOEBA_ATTRIBUTION,
      });
    }
  };
  for (const entry of UD) add("ud", entry);
  for (const entry of UNER) add("uner", entry);
  for (const entry of TATOEBA) add("tatoeba", entry);
  return infos;
}

const CORPORA: readonly CorpusInfo[] = build();

function copy(info: CorpusInfo): CorpusInfo {
  return { ...info, language: { ...info.language }, splits: { ...info.splits } };
}

/** Filters for {@link listCorpora}; every given field must match. */
export interface CorpusFilter {
  /** ISO 639-1 or 639-3 code. */
  language?: string;
  task?: CorpusTask;
  dataset?: CorpusInfo["dataset"];
}

/** The bundled corpora, optionally filtered. */
export function listCorpora(filter: CorpusFilter = {}): CorpusInfo[] {
  return CORPORA.filter(
    (c) =>
      (filter.language === undefined ||
        c.language.iso639_1 === filter.language ||
        c.language.iso639_3 === filter.language) &&
      (filter.task === undefined || c.task === filter.task) &&
      (filter.dataset === undefined || c.dataset === filter.dataset),
  ).map(copy);
}

function find(fn: string, name: string): CorpusInfo {
  const info = CORPORA.find((c) => c.name === name);
  if (info === undefined) {
    throw new DataError(
      fn,
      "name",
      `a bundled corpus (${CORPORA.map((c) => c.name).join(", ")})`,
      show(name),
    );
  }
  return info;
}

function checkSplit(fn: string, info: CorpusInfo, split: string): void {
  const have = Object.keys(info.splits);
  if (!have.includes(split)) {
    throw new DataError(fn, "split", `a split of ${info.name} (${have.join(", ")})`, show(split));
  }
}

/** Metadata of a bundled corpus by name (`ud/hsb_ufal`, `uner/da_ddt`, `tatoeba/hsb`). */
export function corpusInfo(name: string): CorpusInfo {
  return copy(find("corpusInfo", name));
}

/**
 * Absolute path of a split's file, for the streaming readers. For Tatoeba it is the non-English side;
 * the English side has the same path ending in `.eng`.
 */
export function corpusFile(name: string, split: Split): string {
  const info = find("corpusFile", name);
  checkSplit("corpusFile", info, split);
  const extension = info.format === "tatoeba" ? info.language.iso639_3 : info.format;
  return `${info.directory}/${split}.${extension}`;
}

export interface LoadCorpusOptions {
  /** For UD corpora, which column gives the tags (default `upos`). */
  column?: ConlluTagColumn;
}

/**
 * Loads a bundled tagged corpus: UD treebanks give the FORM and UPOS of each syntactic word (multiword
 * ranges and empty nodes skipped), Universal NER files their tokens and IOB2 tags. An unknown name or
 * split is a {@link DataError} that lists what exists.
 */
export async function loadCorpus(
  name: string,
  split: Split,
  options: LoadCorpusOptions = {},
): Promise<TaggedSentence[]> {
  const info = find("loadCorpus", name);
  if (info.task === "parallel") {
    throw new DataError(
      "loadCorpus",
      "name",
      "a tagged corpus (ud/..., uner/...); load raw text with loadParallel",
      show(name),
    );
  }
  checkSplit("loadCorpus", info, split);
  const column = options.column ?? "upos";
  if (column !== "upos" && column !== "xpos") {
    throw new DataError("loadCorpus", "options.column", '"upos" or "xpos"', show(column));
  }
  const path = corpusFile(name, split);
  const sentences: TaggedSentence[] = [];
  if (info.format === "conllu") {
    for await (const sentence of readConllu(path)) {
      const untagged = untaggedWord(sentence, column);
      if (untagged !== undefined) {
        const line = (sentence.line ?? 0) + sentence.comments.length + untagged;
        throw new DataError(
          "loadCorpus",
          "options.column",
          `a column with a tag on every word (${name} has "_" at ${path}:${line})`,
          show(column),
        );
      }
      sentences.push(conlluToTagged(sentence, column));
    }
  } else {
    for await (const sentence of readUner(path)) sentences.push(unerToTagged(sentence));
  }
  return sentences;
}

/** A line-aligned sentence pair: the low-resource side and its English translation. */
export interface ParallelPair {
  text: string;
  english: string;
}

/** Loads a bundled Tatoeba corpus as sentence pairs (line i of one side translates line i of the other). */
export async function loadParallel(name: string, split: Split = "test"): Promise<ParallelPair[]> {
  const info = find("loadParallel", name);
  if (info.task !== "parallel") {
    throw new DataError(
      "loadParallel",
      "name",
      "a parallel corpus (tatoeba/...); load tagged data with loadCorpus",
      show(name),
    );
  }
  checkSplit("loadParallel", info, split);
  const path = corpusFile(name, split);
  const englishPath = `${info.directory}/${split}.eng`;
  const [text, english] = await Promise.all([readFile(path, "utf8"), readFile(englishPath, "utf8")]);
  return pairLines(text, english, path, englishPath);
}

/** Pairs line i of `text` with line i of `english`; both must have the same number of lines. */
export function pairLines(
  text: string,
  english: string,
  source: string,
  englishSource: string,
): ParallelPair[] {
  const left = text.split("\n");
  const right = english.split("\n");
  if (left.at(-1) === "") left.pop();
  if (right.at(-1) === "") right.pop();
  if (left.length !== right.length) {
    throw new DataError(
      "pairLines",
      source,
      `as many lines as ${englishSource} (${right.length})`,
      String(left.length),
    );
  }
  return left.map((line, i) => ({ text: line, english: right[i] ?? "" }));
}
