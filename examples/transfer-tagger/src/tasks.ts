import {
  corpusInfo,
  firstN,
  loadCorpus,
  loadParallel,
  resplit,
  type Split,
  sampleN,
  shuffled,
  type TaggedSentence,
} from "@xlt/data";
import { TransferError } from "./errors.js";

/** The low-resource targets this app simulates. */
export type TargetName = "hsb" | "fo" | "sv";
export const TARGETS: readonly TargetName[] = ["hsb", "fo", "sv"];

export function isTarget(value: string): value is TargetName {
  return (TARGETS as readonly string[]).includes(value);
}

/** A target language, its bundled corpus and the related languages that can serve as sources. */
export interface TaskSpec {
  readonly target: TargetName;
  readonly task: "pos" | "ner";
  readonly language: string;
  /** The target's corpus (`@xlt/data` registry name). */
  readonly corpus: string;
  /** Source language → corpus. */
  readonly sources: Readonly<Record<string, string>>;
  /** The source used when `--sources` does not name one. */
  readonly defaultSource: string;
  /** Bundled Tatoeba text in the target language, used as extra unlabelled text. */
  readonly tatoeba?: string;
}

export const TASKS: Readonly<Record<TargetName, TaskSpec>> = {
  hsb: {
    target: "hsb",
    task: "pos",
    language: "Upper Sorbian",
    corpus: "ud/hsb_ufal",
    sources: { cs: "ud/cs_cac", sk: "ud/sk_snk" },
    defaultSource: "cs+sk",
    tatoeba: "tatoeba/hsb",
  },
  fo: {
    target: "fo",
    task: "pos",
    language: "Faroese",
    corpus: "ud/fo_farpahc",
    sources: { is: "ud/is_modern", da: "ud/da_ddt" },
    defaultSource: "is+da",
    tatoeba: "tatoeba/fao",
  },
  sv: {
    target: "sv",
    task: "ner",
    language: "Swedish",
    corpus: "uner/sv_talbanken",
    sources: { da: "uner/da_ddt", sk: "uner/sk_snk" },
    defaultSource: "da",
  },
};

/** The seed of the 80/10/10 re-splits of targets without their own train/dev/test: fixed, so every run shares one test set. */
export const SPLIT_SEED = 0;

/** A sentence without labels (pseudo-labelling candidates). */
export interface UnlabelledSentence {
  readonly words: readonly string[];
}

/** A target's fixed splits (independent of the run seed). */
export interface TargetSplits {
  /** The pool the labelled sample is drawn from; the rest of it is unlabelled text. */
  readonly trainPool: readonly TaggedSentence[];
  readonly dev: readonly TaggedSentence[];
  readonly test: readonly TaggedSentence[];
  /** Tatoeba sentences in the target language, tokenized by {@link tokenizeText}. */
  readonly extraText: readonly UnlabelledSentence[];
  /** How the splits were made, for the README and the log. */
  readonly description: string;
}

/** A source language's (or pooled languages') sentences, every bundled split. */
export interface SourcePool {
  readonly name: string;
  readonly sentences: readonly TaggedSentence[];
}

/** UD-like word tokenization of raw text: letter runs (with inner apostrophes and hyphens), digit runs, single other symbols. */
export function tokenizeText(text: string): string[] {
  return (
    text.match(/\p{L}[\p{L}\p{M}]*(?:['’-]\p{L}[\p{L}\p{M}]*)*|\p{N}+(?:[.,]\p{N}+)*|[^\s\p{L}\p{N}]/gu) ?? []
  );
}

async function allSplits(corpus: string): Promise<TaggedSentence[]> {
  const splits = Object.keys(corpusInfo(corpus).splits) as Split[];
  const parts = await Promise.all(
    (["train", "dev", "test"] as const).filter((s) => splits.includes(s)).map((s) => loadCorpus(corpus, s)),
  );
  return parts.flat();
}

/**
 * The target's splits: its own train/dev/test where the corpus has them (Faroese), otherwise every
 * bundled sentence re-split 80/10/10 with {@link SPLIT_SEED} (Upper Sorbian: the 644 sentences of the
 * UD test file; Swedish: UNER dev + test, 1723 sentences).
 */
export async function loadTargetSplits(target: TargetName): Promise<TargetSplits> {
  const task = TASKS[target];
  const info = corpusInfo(task.corpus);
  const own = ["train", "dev", "test"].every((split) => split in info.splits);
  const extraText = task.tatoeba
    ? (await loadParallel(task.tatoeba))
        .map((pair) => ({ words: tokenizeText(pair.text) }))
        .filter((s) => s.words.length > 0)
    : [];
  if (own) {
    const [trainPool, dev, test] = await Promise.all(
      (["train", "dev", "test"] as const).map((split) => loadCorpus(task.corpus, split)),
    );
    return {
      trainPool: trainPool as TaggedSentence[],
      dev: dev as TaggedSentence[],
      test: test as TaggedSentence[],
      extraText,
      description: `${task.corpus} train/dev/test as distributed`,
    };
  }
  const pool = await allSplits(task.corpus);
  const [trainPool, dev, test] = resplit(pool, { ratios: [0.8, 0.1, 0.1], seed: SPLIT_SEED }) as [
    TaggedSentence[],
    TaggedSentence[],
    TaggedSentence[],
  ];
  return {
    trainPool,
    dev,
    test,
    extraText,
    description: `${task.corpus} (${Object.keys(info.splits).join(" + ")}, ${pool.length} sentences) re-split 80/10/10 with seed ${SPLIT_SEED}`,
  };
}

/** Every bundled sentence of the source's corpora (`cs+sk` pools two), in file order. */
export async function loadSourcePool(target: TargetName, source: string): Promise<SourcePool> {
  const task = TASKS[target];
  const parts = await Promise.all(
    source.split("+").map((language) => {
      const corpus = task.sources[language];
      if (corpus === undefined)
        throw new TransferError(
          "loadSourcePool",
          "source",
          `sources of ${target} from ${Object.keys(task.sources).join(", ")}`,
          JSON.stringify(language),
        );
      return allSplits(corpus);
    }),
  );
  return { name: source, sentences: parts.flat() };
}

/** What one run of one seed trains and evaluates on. */
export interface RunData {
  readonly labelled: readonly TaggedSentence[];
  readonly unlabelled: readonly UnlabelledSentence[];
  readonly dev: readonly TaggedSentence[];
  readonly test: readonly TaggedSentence[];
}

/**
 * The low-resource simulation for one seed: `labelled` sentences sampled from the train pool with the
 * seed; the rest of the pool (labels hidden) and the Tatoeba text, shuffled with the seed and cut to
 * `unlabelled` when that is positive, are the unlabelled text.
 */
export function runData(splits: TargetSplits, seed: number, labelled: number, unlabelled: number): RunData {
  if (labelled > splits.trainPool.length)
    throw new TransferError(
      "runData",
      "labelled",
      `at most the ${splits.trainPool.length} sentences of the train pool`,
      String(labelled),
    );
  const chosen = sampleN(splits.trainPool, labelled, seed);
  const picked = new Set(chosen);
  const rest = [
    ...splits.trainPool.filter((s) => !picked.has(s)).map((s) => ({ words: s.words })),
    ...splits.extraText,
  ];
  const mixed = shuffled(rest, seed);
  return {
    labelled: chosen,
    unlabelled: unlabelled > 0 ? firstN(mixed, Math.min(unlabelled, mixed.length)) : mixed,
    dev: splits.dev,
    test: splits.test,
  };
}

/** The first `size` sentences of the source pool shuffled with `seed` (nested: a larger k extends a smaller one). */
export function sourceSample(pool: SourcePool, size: number, seed: number): TaggedSentence[] {
  if (size > pool.sentences.length)
    throw new TransferError(
      "sourceSample",
      "size",
      `at most the ${pool.sentences.length} sentences of ${pool.name}`,
      String(size),
    );
  return firstN(shuffled(pool.sentences, seed), size);
}
