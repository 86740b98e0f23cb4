import { parseArgs } from "node:util";
import type { TaggerLearningRates } from "@xlt/heads";
import type { ExecutionProvider } from "@xlt/runtime";
import { TransferError } from "./errors.js";
import { isTarget, TARGETS, TASKS, type TargetName } from "./tasks.js";

/** The three recipes, trained with the same model. */
export type Recipe = "baseline" | "transfer" | "pseudo";
export const RECIPES: readonly Recipe[] = ["baseline", "transfer", "pseudo"];

/** The tagger's size (the same for every recipe). */
export interface ModelConfig {
  readonly wordDim: number;
  readonly charHidden: number;
  readonly subwordDim: number;
  readonly hidden: number;
  readonly layers: number;
  readonly dropout: number;
  /** Size of the shared WordPiece vocabulary trained on source + target text. */
  readonly vocabSize: number;
}

/** Iterative pseudo-labelling (see `pseudo.ts`). */
export interface PseudoConfig {
  readonly rounds: number;
  /** Keep sentences whose confidence is at or above this quantile of the round's confidences. */
  readonly quantile: number;
  /** Keep sentences whose mean token-marginal entropy (nats) is at or below this. */
  readonly maxEntropy: number;
  /** Rounds (from 0) before pseudo-labels are added. */
  readonly delay: number;
}

/** Everything one invocation runs; `runExperiment` takes it. */
export interface ExperimentConfig {
  readonly targets: readonly TargetName[];
  /** Source of each target: one language or several joined by `+` (pooled). */
  readonly sources: Readonly<Record<TargetName, readonly string[]>>;
  readonly seeds: readonly number[];
  readonly recipes: readonly Recipe[];
  /** Source sizes as multiples of the labelled target size (the study's augmentation factor k). */
  readonly sweep: readonly number[];
  /** Labelled target training sentences (the low-resource sample). */
  readonly labelled: number;
  /** At most this many unlabelled target sentences for pseudo-labelling (0: all). */
  readonly unlabelled: number;
  /** Epochs of each training phase on a POS target (early stopping on the target dev set). */
  readonly epochs: number;
  /** Epochs of the source phase of transfer. */
  readonly sourceEpochs: number;
  /** Early-stopping patience (epochs) of the phases on a POS target, and of the source phase. */
  readonly patience: number;
  /**
   * Epochs and patience of each training phase on an NER target. Entities are sparse: with POS's
   * 10 epochs and patience 3, four of five Swedish baselines (240 sentences, 15 steps an epoch)
   * stopped at epoch 4 still tagging everything `O`, so NER target phases get a longer budget.
   */
  readonly nerEpochs: number;
  readonly nerPatience: number;
  readonly batchSize: number;
  readonly learningRates: TaggerLearningRates;
  readonly model: ModelConfig;
  readonly pseudo: PseudoConfig;
  readonly executionProvider: ExecutionProvider;
  readonly threads: number;
  readonly out: string;
  readonly full: boolean;
}

/** `--help`, or a configuration to run. */
export type CliResult = { readonly help: true } | { readonly help: false; readonly config: ExperimentConfig };

const SHORT = {
  targets: "hsb",
  seeds: "1,2",
  recipes: "baseline,transfer,pseudo",
  sweep: "1,4",
  rounds: "2",
} as const;

const FULL = {
  targets: "hsb,fo,sv",
  seeds: "1,2,3,4,5",
  recipes: "baseline,transfer,pseudo",
  sweep: "1,2,4,8",
  rounds: "2",
} as const;

const DEFAULTS = {
  labelled: "240",
  unlabelled: "600",
  epochs: "10",
  "source-epochs": "5",
  patience: "3",
  "ner-epochs": "30",
  "ner-patience": "8",
  "batch-size": "16",
  lr: "0.01",
  "word-dim": "64",
  "char-hidden": "32",
  "subword-dim": "32",
  hidden: "64",
  layers: "1",
  dropout: "0.3",
  "vocab-size": "4000",
  "pl-quantile": "0.5",
  "pl-max-entropy": "0.5",
  "pl-delay": "0",
  "execution-provider": "cpu",
  threads: "2",
  out: "results",
} as const;

const STRING_FLAGS = [
  "targets",
  "sources",
  "seeds",
  "recipes",
  "sweep",
  "rounds",
  ...Object.keys(DEFAULTS),
  "lr-embeddings",
  "lr-lstm",
  "lr-emission",
  "lr-crf",
] as const;

export const HELP = `transfer-tagger: cross-lingual BiLSTM-CRF transfer with iterative pseudo-labelling

Usage: node dist/main.js [flags]            (npm start: the short configuration)

Tasks (bundled data): hsb = Upper Sorbian POS (UD) <- cs, sk; fo = Faroese POS (UD) <- is, da;
sv = Swedish NER (UNER) <- da, sk. Join languages with + to pool them (cs+sk).

  --targets LIST          targets, comma-separated (default ${SHORT.targets}; --full: ${FULL.targets})
  --sources MAP           source of each target, e.g. hsb=cs+sk,fo=is+da,sv=da (a list per target with
                          ;: hsb=cs;sk). Default: ${TARGETS.map((t) => `${t}=${TASKS[t].defaultSource}`).join(",")}
  --seeds LIST            seeds (default ${SHORT.seeds}; --full: ${FULL.seeds})
  --recipes LIST          baseline, transfer, pseudo (default all three)
  --sweep LIST            source sizes k (k x labelled sentences) for transfer (default ${SHORT.sweep};
                          --full: ${FULL.sweep}); sizes larger than the source corpus are skipped
  --labelled N            labelled target training sentences (default ${DEFAULTS.labelled})
  --unlabelled N          at most N unlabelled target sentences for pseudo-labels (default ${DEFAULTS.unlabelled};
                          0 = all)
  --epochs N              epochs of each target phase, early stopping on target dev (default ${DEFAULTS.epochs})
  --source-epochs N       epochs of the transfer source phase (default ${DEFAULTS["source-epochs"]})
  --patience N            early-stopping patience in epochs (default ${DEFAULTS.patience})
  --ner-epochs N, --ner-patience N   the same for the target phases of NER targets (defaults
                          ${DEFAULTS["ner-epochs"]}, ${DEFAULTS["ner-patience"]}: entities are sparse, a baseline needs longer to find them)
  --batch-size N          sentences per batch (default ${DEFAULTS["batch-size"]})
  --lr X                  learning rate of every parameter group (default ${DEFAULTS.lr})
  --lr-embeddings X, --lr-lstm X, --lr-emission X, --lr-crf X   one group's learning rate
  --word-dim N, --char-hidden N, --subword-dim N, --hidden N, --layers N, --dropout X
                          model size (defaults ${DEFAULTS["word-dim"]}, ${DEFAULTS["char-hidden"]}, ${DEFAULTS["subword-dim"]}, ${DEFAULTS.hidden}, ${DEFAULTS.layers}, ${DEFAULTS.dropout})
  --vocab-size N          shared WordPiece vocabulary size (default ${DEFAULTS["vocab-size"]})
  --rounds N              pseudo-labelling rounds (default ${SHORT.rounds})
  --pl-quantile X         keep pseudo-labelled sentences at or above this confidence quantile (default ${DEFAULTS["pl-quantile"]})
  --pl-max-entropy X      ... and at or below this mean token entropy in nats (default ${DEFAULTS["pl-max-entropy"]})
  --pl-delay N            rounds before pseudo-labels are added (default ${DEFAULTS["pl-delay"]})
  --execution-provider P  cpu, cuda or webgpu (default cpu)
  --threads N             ONNX Runtime intra-op threads (default ${DEFAULTS.threads})
  --full                  the full configuration (all targets, 5 seeds, sweep ${FULL.sweep})
  --out DIR               results directory (default ${DEFAULTS.out}): runs.jsonl, table.md, table.tex, sweep.svg
  --help                  this text

Interrupt with Ctrl-C and run the same command again to resume: finished runs are read back from
runs.jsonl, and the run in progress continues from its last checkpoint.
`;

function fail(argument: string, expected: string, got: string): never {
  throw new TransferError("parseCli", argument, expected, got);
}

function list(flag: string, value: string): string[] {
  const items = value.split(",").map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === ""))
    fail(`--${flag}`, "a comma-separated list without empty items", JSON.stringify(value));
  if (new Set(items).size !== items.length)
    fail(`--${flag}`, "a list without repeats", JSON.stringify(value));
  return items;
}

function integer(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(Number.isSafeInteger(parsed) && parsed >= min && parsed <= max))
    fail(
      `--${flag}`,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`,
      JSON.stringify(value),
    );
  return parsed;
}

function real(flag: string, value: string, min: number, max: number, openMin = false): number {
  const parsed = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(Number.isFinite(parsed) && (openMin ? parsed > min : parsed >= min) && parsed <= max))
    fail(`--${flag}`, `a number in ${openMin ? "(" : "["}${min}, ${max}]`, JSON.stringify(value));
  return parsed;
}

/** The sources of each target: `hsb=cs+sk,fo=is` (several sources of one target separated by `;`). */
function parseSources(
  value: string | undefined,
  targets: readonly TargetName[],
): Record<TargetName, string[]> {
  const sources = Object.fromEntries(TARGETS.map((t) => [t, [TASKS[t].defaultSource]])) as Record<
    TargetName,
    string[]
  >;
  for (const target of TARGETS) if (!targets.includes(target)) delete sources[target];
  if (value === undefined) return sources;
  for (const entry of list("sources", value)) {
    const [target, spec, extra] = entry.split("=");
    if (target === undefined || spec === undefined || extra !== undefined || !isTarget(target))
      fail(
        "--sources",
        `target=source entries with a target in ${TARGETS.join(", ")}`,
        JSON.stringify(entry),
      );
    const task = TASKS[target];
    const chosen = spec.split(";").map((s) => s.trim());
    for (const source of chosen) {
      const languages = source.split("+");
      if (
        source === "" ||
        new Set(languages).size !== languages.length ||
        languages.some((language) => !(language in task.sources))
      )
        fail(
          "--sources",
          `sources of ${target} from ${Object.keys(task.sources).join(", ")} (joined by +)`,
          JSON.stringify(source),
        );
    }
    if (targets.includes(target)) sources[target] = chosen;
  }
  return sources;
}

/** Parses the command line (without `node` and the script), validating every flag. */
export function parseCli(argv: readonly string[]): CliResult {
  let parsed: ReturnType<typeof parseArgs<{ options: Record<string, { type: "string" | "boolean" }> }>>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(STRING_FLAGS.map((flag) => [flag, { type: "string" as const }])),
        full: { type: "boolean" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1];
    if (/positional/i.test(message))
      fail(
        "arguments",
        "flags only (see --help)",
        JSON.stringify(argv.find((a) => !a.startsWith("-")) ?? ""),
      );
    if (/argument missing/i.test(message) || /expects? an? argument/i.test(message))
      fail(flag ?? "flag", "a value after the flag", "none");
    if (/ambiguous/i.test(message))
      fail(
        flag ?? "flag",
        `a value after the flag (write a value that starts with - as ${flag ?? "--flag"}=-1)`,
        "a value starting with -",
      );
    fail(flag ?? "flag", "one of the flags listed by --help", flag ?? message);
  }
  const values = parsed.values;
  if (values.help === true) return { help: true };
  const full = values.full === true;
  const preset = full ? FULL : SHORT;
  const text = (flag: string, fallback: string): string => {
    const value = values[flag];
    return typeof value === "string" ? value : fallback;
  };
  const setting = (flag: keyof typeof DEFAULTS): string => text(flag, DEFAULTS[flag]);

  const targets = list("targets", text("targets", preset.targets)).map((target) => {
    if (!isTarget(target)) fail("--targets", `targets from ${TARGETS.join(", ")}`, JSON.stringify(target));
    return target;
  });
  const recipes = list("recipes", text("recipes", preset.recipes)).map((recipe) => {
    if (!(RECIPES as readonly string[]).includes(recipe))
      fail("--recipes", `recipes from ${RECIPES.join(", ")}`, JSON.stringify(recipe));
    return recipe as Recipe;
  });
  const seeds = list("seeds", text("seeds", preset.seeds)).map((seed) =>
    integer("seeds", seed, 0, 2_000_000),
  );
  const sweep = list("sweep", text("sweep", preset.sweep)).map((k) => integer("sweep", k, 1, 1000));
  const lr = real("lr", setting("lr"), 0, 10, true);
  const groupRate = (flag: string) => {
    const value = values[flag];
    return typeof value === "string" ? real(flag, value, 0, 10) : lr;
  };
  const provider = setting("execution-provider");
  if (provider !== "cpu" && provider !== "cuda" && provider !== "webgpu")
    fail("--execution-provider", "cpu, cuda or webgpu", JSON.stringify(provider));
  const config: ExperimentConfig = {
    targets,
    sources: parseSources(typeof values.sources === "string" ? values.sources : undefined, targets),
    seeds,
    recipes,
    sweep,
    labelled: integer("labelled", setting("labelled"), 2),
    unlabelled: integer("unlabelled", setting("unlabelled"), 0),
    epochs: integer("epochs", setting("epochs"), 1),
    sourceEpochs: integer("source-epochs", setting("source-epochs"), 1),
    patience: integer("patience", setting("patience"), 0),
    nerEpochs: integer("ner-epochs", setting("ner-epochs"), 1),
    nerPatience: integer("ner-patience", setting("ner-patience"), 0),
    batchSize: integer("batch-size", setting("batch-size"), 1),
    learningRates: {
      embeddings: groupRate("lr-embeddings"),
      lstm: groupRate("lr-lstm"),
      emission: groupRate("lr-emission"),
      crf: groupRate("lr-crf"),
    },
    model: {
      wordDim: integer("word-dim", setting("word-dim"), 1),
      charHidden: integer("char-hidden", setting("char-hidden"), 1),
      subwordDim: integer("subword-dim", setting("subword-dim"), 1),
      hidden: integer("hidden", setting("hidden"), 1),
      layers: integer("layers", setting("layers"), 1, 8),
      dropout: real("dropout", setting("dropout"), 0, 0.9),
      vocabSize: integer("vocab-size", setting("vocab-size"), 100),
    },
    pseudo: {
      rounds: integer("rounds", text("rounds", preset.rounds), 1, 20),
      quantile: real("pl-quantile", setting("pl-quantile"), 0, 1),
      maxEntropy: real("pl-max-entropy", setting("pl-max-entropy"), 0, 100),
      delay: integer("pl-delay", setting("pl-delay"), 0),
    },
    executionProvider: provider,
    threads: integer("threads", setting("threads"), 1, 256),
    out: setting("out"),
    full,
  };
  if (config.pseudo.delay >= config.pseudo.rounds && recipes.includes("pseudo"))
    fail("--pl-delay", `fewer than --rounds (${config.pseudo.rounds})`, String(config.pseudo.delay));
  return { help: false, config };
}
