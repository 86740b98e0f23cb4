import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { CompareError } from "./errors.js";
import { METHODS, type Method, parseMethods } from "./methods.js";

/** Everything a run of the comparison is configured by. */
export interface CompareOptions {
  /** Runs per method and task, with seeds `1 … seeds`. */
  readonly seeds: number;
  /** The methods compared (always with `full`, the baseline), in {@link METHODS} order. */
  readonly methods: readonly Method[];
  /** Masked-LM pretraining steps of the base encoder (ignored with `checkpoint`). */
  readonly pretrainSteps: number;
  /** Epochs of masked-LM adaptation over the Faroese text. */
  readonly lmEpochs: number;
  /** Epochs of UPOS fine-tuning. */
  readonly tagEpochs: number;
  /** Faroese UPOS training sentences. */
  readonly trainSentences: number;
  readonly batchSize: number;
  /**
   * Longest input in subword tokens: the pretrained encoder's 64 positions less the 8 that prompt
   * tuning's virtual tokens take (the same cut for every method).
   */
  readonly maxTokens: number;
  /** Output directory: records, tables, the cached pretrained encoder. */
  readonly out: string;
  /** A local Hugging Face checkpoint directory to adapt instead of pretraining one. */
  readonly checkpoint: string | null;
  /** ORT intra-op threads (default: ORT's choice). */
  readonly threads: number | undefined;
  readonly full: boolean;
}

type Defaults = Omit<CompareOptions, "out" | "checkpoint" | "threads" | "full">;

/** The short configuration (`npm start`): about ten minutes on 2 cores. */
export const SHORT: Defaults = {
  seeds: 2,
  methods: METHODS,
  pretrainSteps: 400,
  lmEpochs: 1,
  tagEpochs: 3,
  trainSentences: 300,
  batchSize: 16,
  maxTokens: 56,
};

/** The full configuration (`--full`): more seeds, a longer pretraining, more epochs. */
export const FULL: Defaults = {
  ...SHORT,
  seeds: 5,
  pretrainSteps: 3000,
  lmEpochs: 3,
  tagEpochs: 8,
};

export const USAGE = `usage: peft-compare [--full] [--seeds N] [--methods LIST] [--pretrain-steps N]
                    [--lm-epochs N] [--tag-epochs N] [--train-sentences N] [--batch-size N]
                    [--threads N] [--out DIR] [--checkpoint DIR]
methods: ${METHODS.join(", ")} (comma-separated; full is always needed)`;

const FN = "parseOptions";

function integer(
  argument: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max)
    throw new CompareError(
      FN,
      `--${argument}`,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`,
      JSON.stringify(text),
    );
  return value;
}

const ANY = Number.MAX_SAFE_INTEGER;

/** The Faroese treebank's training sentences, the most `--train-sentences` can take. */
export const FAROESE_TRAIN_SENTENCES = 1020;

/**
 * Parses the command line (without `node` and the script). Unknown flags, stray arguments and values
 * out of range are `CompareError`s; `--out` defaults to `defaultOut`.
 */
export function parseOptions(argv: readonly string[], defaultOut: string): CompareOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CompareError(
      FN,
      "argv",
      "known flags with values (see --help)",
      error instanceof Error ? error.message : String(error),
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0)
    throw new CompareError(FN, "argv", "flags only", JSON.stringify(positionals.join(" ")));
  const base = values.full ? FULL : SHORT;
  for (const flag of ["out", "checkpoint"] as const) {
    if (values[flag] !== undefined && values[flag].trim() === "")
      throw new CompareError(FN, `--${flag}`, "a directory", '""');
  }
  return {
    seeds: integer("seeds", values.seeds, base.seeds, 1, ANY),
    methods: values.methods === undefined ? base.methods : parseMethods(values.methods),
    pretrainSteps: integer("pretrain-steps", values["pretrain-steps"], base.pretrainSteps, 1, ANY),
    lmEpochs: integer("lm-epochs", values["lm-epochs"], base.lmEpochs, 1, ANY),
    tagEpochs: integer("tag-epochs", values["tag-epochs"], base.tagEpochs, 1, ANY),
    trainSentences: integer(
      "train-sentences",
      values["train-sentences"],
      base.trainSentences,
      1,
      FAROESE_TRAIN_SENTENCES,
    ),
    batchSize: integer("batch-size", values["batch-size"], base.batchSize, 1, ANY),
    maxTokens: base.maxTokens,
    out: resolve(values.out ?? defaultOut),
    checkpoint: values.checkpoint === undefined ? null : resolve(values.checkpoint),
    threads: values.threads === undefined ? undefined : integer("threads", values.threads, 1, 1, ANY),
    full: values.full ?? false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      full: { type: "boolean" },
      seeds: { type: "string" },
      methods: { type: "string" },
      "pretrain-steps": { type: "string" },
      "lm-epochs": { type: "string" },
      "tag-epochs": { type: "string" },
      "train-sentences": { type: "string" },
      "batch-size": { type: "string" },
      threads: { type: "string" },
      out: { type: "string" },
      checkpoint: { type: "string" },
      help: { type: "boolean" },
    },
  });
}

/** Whether the command line asks for the usage text. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes("--help") || argv.includes("-h");
