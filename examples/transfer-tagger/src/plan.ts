import { createHash } from "node:crypto";
import type { ExperimentConfig, Recipe } from "./cli.js";
import { TASKS, type TargetName } from "./tasks.js";

/** One training run: a recipe for one target and seed (and, for transfer, a source and size k). */
export interface RunSpec {
  readonly target: TargetName;
  readonly recipe: Recipe;
  /** The source (`cs+sk` pools two); null for baseline and pseudo. */
  readonly source: string | null;
  /** Source size as a multiple of the labelled target size; null for baseline and pseudo. */
  readonly k: number | null;
  readonly seed: number;
}

/** A transfer run the plan leaves out because its source corpus is too small. */
export interface SkippedRun {
  readonly target: TargetName;
  readonly source: string;
  readonly k: number;
  readonly needed: number;
  readonly available: number;
}

export interface Plan {
  readonly runs: readonly RunSpec[];
  readonly skipped: readonly SkippedRun[];
}

/** A run's identity in `runs.jsonl` and its checkpoint folders. */
export function runKey(spec: RunSpec): string {
  const transfer = spec.recipe === "transfer" ? `-${spec.source}-k${spec.k}` : "";
  return `${spec.target}-${spec.recipe}${transfer}-seed${spec.seed}`;
}

/**
 * Every run the configuration asks for, in the order they train: per target and seed, the baseline,
 * then transfer for each source and size k (smallest first), then pseudo-labelling (which starts from
 * the baseline's model). `sourceSizes[target][source]` is the number of source sentences; a size
 * k × labelled above it is skipped and reported.
 */
export function planRuns(
  config: Pick<ExperimentConfig, "targets" | "sources" | "seeds" | "recipes" | "sweep" | "labelled">,
  sourceSizes: Readonly<Partial<Record<TargetName, Readonly<Record<string, number>>>>>,
): Plan {
  const runs: RunSpec[] = [];
  const skipped: SkippedRun[] = [];
  const sweep = [...config.sweep].sort((a, b) => a - b);
  for (const target of config.targets) {
    const sources = config.sources[target] ?? [];
    if (config.recipes.includes("transfer"))
      for (const source of sources)
        for (const k of sweep) {
          const needed = k * config.labelled;
          const available = sourceSizes[target]?.[source] ?? 0;
          if (needed > available) skipped.push({ target, source, k, needed, available });
        }
    for (const seed of config.seeds) {
      const base = { target, seed, source: null, k: null };
      if (config.recipes.includes("baseline")) runs.push({ ...base, recipe: "baseline" });
      if (config.recipes.includes("transfer"))
        for (const source of sources)
          for (const k of sweep)
            if (!skipped.some((s) => s.target === target && s.source === source && s.k === k))
              runs.push({ target, seed, recipe: "transfer", source, k });
      if (config.recipes.includes("pseudo")) runs.push({ ...base, recipe: "pseudo" });
    }
  }
  return { runs, skipped };
}

/** Epochs and early-stopping patience of the training phases on `target` (NER targets get their own). */
export function targetBudget(
  config: Pick<ExperimentConfig, "epochs" | "patience" | "nerEpochs" | "nerPatience">,
  target: TargetName,
): { readonly epochs: number; readonly patience: number } {
  return TASKS[target].task === "ner"
    ? { epochs: config.nerEpochs, patience: config.nerPatience }
    : { epochs: config.epochs, patience: config.patience };
}

/** The settings that change a run's result (what the config hash covers). */
export function runSettings(spec: RunSpec, config: ExperimentConfig): Record<string, unknown> {
  return {
    spec,
    labelled: config.labelled,
    ...targetBudget(config, spec.target),
    batchSize: config.batchSize,
    learningRates: config.learningRates,
    model: config.model,
    // The vocabularies cover every source of the target, so the sources chosen change every run.
    sources: config.sources[spec.target],
    // NER early stopping follows F1 with token accuracy breaking ties (train.ts).
    ...(TASKS[spec.target].task === "ner" ? { selection: "f1+1e-4*accuracy" } : {}),
    // The source phase stops with --patience; for POS targets the budget's patience is that already.
    ...(spec.recipe === "transfer"
      ? {
          sourceEpochs: config.sourceEpochs,
          ...(TASKS[spec.target].task === "ner" ? { sourcePatience: config.patience } : {}),
        }
      : {}),
    ...(spec.recipe === "pseudo" ? { pseudo: config.pseudo, unlabelled: config.unlabelled } : {}),
    // NER pseudo-labels: the confidence quantile is taken over the sentences not all O (@xlt/data).
    ...(spec.recipe === "pseudo" && TASKS[spec.target].task === "ner" ? { quantileOver: "not-all-O" } : {}),
  };
}

/** A short stable hash of JSON-serialisable settings (sorted keys). */
export function hashSettings(settings: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === "object"
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
          )
        : value;
  return createHash("sha256")
    .update(JSON.stringify(canonical(settings)))
    .digest("hex")
    .slice(0, 12);
}

/** The condition a run belongs to in the tables: `baseline`, `transfer k=4` (with the source when a target has several), `pseudo`. */
export function conditionName(spec: Pick<RunSpec, "recipe" | "source" | "k">, withSource: boolean): string {
  if (spec.recipe !== "transfer") return spec.recipe;
  return withSource ? `transfer ${spec.source} k=${spec.k}` : `transfer k=${spec.k}`;
}
