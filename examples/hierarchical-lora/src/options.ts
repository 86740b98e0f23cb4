import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { EncoderShape } from "@xlt/example-layerwise-lr";
import { HqlError } from "./errors.js";

/** Everything a run of the comparison is configured by. */
export interface HqlOptions {
  /** Runs per method, with seeds `1 … seeds`. */
  readonly seeds: number;
  /** Masked-LM pretraining steps of the shared base (one batch each). */
  readonly pretrainSteps: number;
  readonly pretrainBatch: number;
  /** Peak learning rate of pretraining (linear warmup and decay). */
  readonly pretrainLr: number;
  /**
   * Epochs over a tree node's data. Every language's sentences are seen `epochs` times at each level
   * of its path; the flat methods train `levels × epochs` epochs, so all four see each sentence
   * equally often.
   */
  readonly epochs: number;
  readonly batchSize: number;
  /** LoRA learning rate (AdamW, linear warmup 10% and decay at every node). */
  readonly lr: number;
  /** LoRA rank; alpha is twice the rank. */
  readonly rank: number;
  /** Tagged training sentences per language (the low-resource simulation). */
  readonly trainSize: number;
  /** Test sentences per language. */
  readonly testSize: number;
  /** Most pretraining sentences per language. */
  readonly textCap: number;
  /** Seed of the train/test sampling (fixed across run seeds). */
  readonly dataSeed: number;
  /** Longest input in subword tokens (longer sentences are cut; their words past it count as wrong). */
  readonly maxTokens: number;
  readonly shape: EncoderShape;
  /** Output directory: results, tables, the cached pretrained base. */
  readonly out: string;
  /** JSON file with the `phylogenetic` and `distant` trees. */
  readonly trees: string;
  /** ORT intra-op threads (default: ORT's choice). */
  readonly threads: number | undefined;
  readonly full: boolean;
}

type Defaults = Omit<HqlOptions, "out" | "trees" | "threads" | "full">;

/** The short configuration (`npm start`): about ten minutes on 2 cores. */
export const SHORT: Defaults = {
  seeds: 3,
  pretrainSteps: 300,
  pretrainBatch: 32,
  pretrainLr: 1e-3,
  epochs: 1,
  batchSize: 16,
  lr: 3e-3,
  rank: 8,
  trainSize: 160,
  testSize: 150,
  textCap: 2000,
  dataSeed: 1,
  maxTokens: 48,
  shape: { vocab: 4000, hidden: 128, layers: 2, heads: 4, intermediate: 512, maxPositions: 48 },
};

/** The full configuration (`--full`): 10 seeds, a longer-pretrained 4-layer base, more data and epochs. */
export const FULL: Defaults = {
  ...SHORT,
  seeds: 10,
  pretrainSteps: 3000,
  epochs: 3,
  trainSize: 240,
  maxTokens: 64,
  shape: { vocab: 6000, hidden: 128, layers: 4, heads: 4, intermediate: 512, maxPositions: 64 },
};

export const USAGE = `usage: hierarchical-lora [--full] [--seeds N] [--pretrain-steps N] [--epochs N] [--lr X]
                         [--rank N] [--train-size N] [--test-size N] [--data-seed N]
                         [--batch-size N] [--threads N] [--out DIR] [--trees FILE]`;

const FN = "parseOptions";

function integer(argument: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min)
    throw new HqlError(FN, `--${argument}`, `an integer >= ${min}`, JSON.stringify(text));
  return value;
}

function positive(argument: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || !(value > 0))
    throw new HqlError(FN, `--${argument}`, "a number > 0", JSON.stringify(text));
  return value;
}

function path(argument: string, text: string | undefined, fallback: string): string {
  if (text === undefined) return fallback;
  if (text.trim() === "") throw new HqlError(FN, `--${argument}`, "a path", JSON.stringify(text));
  return resolve(text);
}

/**
 * Parses the command line (without `node` and the script). Unknown flags, stray arguments and
 * values out of range are `HqlError`s; `--out` defaults to `defaultOut`, `--trees` to `defaultTrees`.
 */
export function parseOptions(argv: readonly string[], defaultOut: string, defaultTrees: string): HqlOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new HqlError(
      FN,
      "argv",
      "known flags with values (see --help)",
      error instanceof Error ? error.message : String(error),
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0)
    throw new HqlError(FN, "argv", "flags only", JSON.stringify(positionals.join(" ")));
  const base = values.full ? FULL : SHORT;
  return {
    ...base,
    seeds: integer("seeds", values.seeds, base.seeds, 1),
    pretrainSteps: integer("pretrain-steps", values["pretrain-steps"], base.pretrainSteps, 1),
    epochs: integer("epochs", values.epochs, base.epochs, 1),
    batchSize: integer("batch-size", values["batch-size"], base.batchSize, 1),
    lr: positive("lr", values.lr, base.lr),
    rank: integer("rank", values.rank, base.rank, 1),
    trainSize: integer("train-size", values["train-size"], base.trainSize, 1),
    testSize: integer("test-size", values["test-size"], base.testSize, 1),
    dataSeed: integer("data-seed", values["data-seed"], base.dataSeed, 0),
    out: path("out", values.out, resolve(defaultOut)),
    trees: path("trees", values.trees, resolve(defaultTrees)),
    threads: values.threads === undefined ? undefined : integer("threads", values.threads, 1, 1),
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
      "pretrain-steps": { type: "string" },
      epochs: { type: "string" },
      lr: { type: "string" },
      rank: { type: "string" },
      "train-size": { type: "string" },
      "test-size": { type: "string" },
      "data-seed": { type: "string" },
      "batch-size": { type: "string" },
      threads: { type: "string" },
      out: { type: "string" },
      trees: { type: "string" },
      help: { type: "boolean" },
    },
  });
}

/** Whether the command line asks for the usage text. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes("--help") || argv.includes("-h");
