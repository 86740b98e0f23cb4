import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { StudyError } from "./errors.js";

/** The shape of the encoder pretrained here (ignored with `--checkpoint`). */
export interface EncoderShape {
  readonly vocab: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly maxPositions: number;
}

/** Everything a run of the study is configured by. */
export interface StudyOptions {
  /** Runs per condition, with seeds `1 … seeds`. */
  readonly seeds: number;
  /** Masked-LM pretraining steps (one batch each). */
  readonly pretrainSteps: number;
  readonly pretrainBatch: number;
  /** Peak learning rate of pretraining (linear warmup and decay). */
  readonly pretrainLr: number;
  /** Fine-tuning epochs over the source-language training set. */
  readonly epochs: number;
  readonly batchSize: number;
  /** Fine-tuning learning rate of the top group (the classifier); the others get `lr · factor^depth`. */
  readonly lr: number;
  /** Discriminative factor per group below the top (the study: 0.7). */
  readonly factor: number;
  /** Blocks the encoder layers are grouped into between embeddings and classifier (the study: 4). */
  readonly blocks: number;
  /** Longest input in subword tokens (longer sentences are cut; their words past it are not scored). */
  readonly maxTokens: number;
  readonly shape: EncoderShape;
  /** Output directory: results, tables, the cached pretrained encoder. */
  readonly out: string;
  /** A local Hugging Face checkpoint directory to fine-tune instead of pretraining one. */
  readonly checkpoint: string | null;
  /** ORT intra-op threads (default: ORT's choice). */
  readonly threads: number | undefined;
  readonly full: boolean;
  /**
   * The tagging head: `softmax` (the study's, default), `@xlt/nn`'s token-classification head on each
   * word's first subword; or `crf`, `@xlt/heads`' `CrfHead` over the words' first-subword states.
   */
  readonly head: TaggingHeadKind;
}

/** The tagging heads `--head` chooses from. */
export const HEADS = ["softmax", "crf"] as const;
export type TaggingHeadKind = (typeof HEADS)[number];

/** The short configuration (`npm start`): a few minutes on 2 cores. */
export const SHORT: Omit<StudyOptions, "out" | "checkpoint" | "threads" | "full" | "head"> = {
  seeds: 3,
  pretrainSteps: 400,
  pretrainBatch: 32,
  pretrainLr: 1e-3,
  epochs: 3,
  batchSize: 16,
  lr: 1e-3,
  factor: 0.7,
  blocks: 4,
  maxTokens: 64,
  shape: { vocab: 4000, hidden: 128, layers: 4, heads: 4, intermediate: 512, maxPositions: 64 },
};

/** The full configuration (`--full`): 10 seeds, as the study. */
export const FULL: typeof SHORT = {
  ...SHORT,
  seeds: 10,
  pretrainSteps: 3000,
  epochs: 5,
};

export const USAGE = `usage: layerwise-lr [--full] [--seeds N] [--pretrain-steps N] [--epochs N] [--lr X]
                    [--factor X] [--blocks N] [--batch-size N] [--threads N] [--out DIR]
                    [--checkpoint DIR] [--head softmax|crf]`;

const FN = "parseOptions";

function integer(argument: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min)
    throw new StudyError(FN, `--${argument}`, `an integer >= ${min}`, JSON.stringify(text));
  return value;
}

function real(
  argument: string,
  text: string | undefined,
  fallback: number,
  ok: (x: number) => boolean,
  expected: string,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || !ok(value))
    throw new StudyError(FN, `--${argument}`, expected, JSON.stringify(text));
  return value;
}

/**
 * Parses the command line (without `node` and the script). Unknown flags, stray arguments and
 * values out of range are `StudyError`s; `--out` defaults to `results` beside the package.
 */
export function parseOptions(argv: readonly string[], defaultOut: string): StudyOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new StudyError(
      FN,
      "argv",
      "known flags with values (see --help)",
      error instanceof Error ? error.message : String(error),
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0)
    throw new StudyError(FN, "argv", "flags only", JSON.stringify(positionals.join(" ")));
  const base = values.full ? FULL : SHORT;
  const shape = base.shape;
  const layers = shape.layers;
  const blocks = integer("blocks", values.blocks, base.blocks, 1);
  if (values.checkpoint === undefined && blocks > layers)
    throw new StudyError(FN, "--blocks", `at most the ${layers} encoder layers`, String(blocks));
  if (values.checkpoint !== undefined && values.checkpoint.trim() === "")
    throw new StudyError(FN, "--checkpoint", "a directory", '""');
  const head = HEADS.find((kind) => kind === (values.head ?? "softmax"));
  if (head === undefined)
    throw new StudyError(
      FN,
      "--head",
      HEADS.map((kind) => JSON.stringify(kind)).join(" or "),
      JSON.stringify(values.head),
    );
  return {
    seeds: integer("seeds", values.seeds, base.seeds, 1),
    pretrainSteps: integer("pretrain-steps", values["pretrain-steps"], base.pretrainSteps, 1),
    pretrainBatch: base.pretrainBatch,
    pretrainLr: base.pretrainLr,
    epochs: integer("epochs", values.epochs, base.epochs, 1),
    batchSize: integer("batch-size", values["batch-size"], base.batchSize, 1),
    lr: real("lr", values.lr, base.lr, (x) => x > 0, "a number > 0"),
    factor: real("factor", values.factor, base.factor, (x) => x > 0 && x <= 1, "a number in (0, 1]"),
    blocks,
    maxTokens: base.maxTokens,
    shape,
    out: resolve(values.out ?? defaultOut),
    checkpoint: values.checkpoint === undefined ? null : resolve(values.checkpoint),
    threads: values.threads === undefined ? undefined : integer("threads", values.threads, 1, 1),
    full: values.full ?? false,
    head,
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
      factor: { type: "string" },
      blocks: { type: "string" },
      "batch-size": { type: "string" },
      threads: { type: "string" },
      out: { type: "string" },
      checkpoint: { type: "string" },
      head: { type: "string" },
      help: { type: "boolean" },
    },
  });
}

/** Whether the command line asks for the usage text. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes("--help") || argv.includes("-h");
