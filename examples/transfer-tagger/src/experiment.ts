import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PseudoLabelCandidate, TaggedSentence } from "@xlt/data";
import type { SequenceTagger } from "@xlt/heads";
import { writeFileAtomic } from "@xlt/runtime";
import type { ExperimentConfig } from "./cli.js";
import { newTagger, type SharedVocabularies, sentenceTotals, sharedVocabularies } from "./model.js";
import {
  hashSettings,
  type Plan,
  planRuns,
  type RunSpec,
  runKey,
  runSettings,
  targetBudget,
} from "./plan.js";
import { sweepPoints, sweepSvg } from "./plot.js";
import type { Progress } from "./progress.js";
import { labelCandidates, PseudoLabelRounds } from "./pseudo.js";
import { buildReport, type Report } from "./report.js";
import { appendRun, finishedRuns, type RunRecord, readRuns } from "./results.js";
import {
  loadSourcePool,
  loadTargetSplits,
  type RunData,
  runData,
  type SourcePool,
  sourceSample,
  TASKS,
  type TargetName,
  type TargetSplits,
} from "./tasks.js";
import { compileTagger, evaluateOn, type PhaseResult, type TrainingSettings, trainPhase } from "./train.js";

/** What `runExperiment` did. */
export interface ExperimentResult {
  readonly plan: Plan;
  /** Runs trained by this call (the others were read back from runs.jsonl). */
  readonly trained: number;
  readonly records: readonly RunRecord[];
  readonly report: Report;
  readonly files: {
    readonly runs: string;
    readonly markdown: string;
    readonly latex: string;
    readonly svg: string;
  };
}

interface TargetContext {
  readonly splits: TargetSplits;
  readonly pools: ReadonlyMap<string, SourcePool>;
  shared?: SharedVocabularies;
}

function settingsOf(
  config: ExperimentConfig,
  budget: { epochs: number; patience: number },
): TrainingSettings {
  return {
    epochs: budget.epochs,
    patience: budget.patience,
    batchSize: config.batchSize,
    learningRates: config.learningRates,
    executionProvider: config.executionProvider,
    threads: config.threads,
  };
}

/** The folder of a run's phases: `<out>/work/<key>-<hash>`. */
function runDirectory(config: ExperimentConfig, spec: RunSpec): string {
  return join(config.out, "work", `${runKey(spec)}-${hashSettings(runSettings(spec, config))}`);
}

function baselineSpec(spec: RunSpec): RunSpec {
  return { target: spec.target, recipe: "baseline", source: null, k: null, seed: spec.seed };
}

/** Runs one recipe and returns its final tagger with the phases it went through. */
async function trainRecipe(
  spec: RunSpec,
  config: ExperimentConfig,
  context: TargetContext,
  data: RunData,
  progress: Progress,
): Promise<{
  tagger: SequenceTagger;
  phases: PhaseResult[];
  sourceSentences: number;
  pseudoAdded: number[];
}> {
  const shared = context.shared as SharedVocabularies;
  const task = TASKS[spec.target].task;
  const target = settingsOf(config, targetBudget(config, spec.target));
  const baselinePhase = () =>
    trainPhase(
      {
        dir: join(runDirectory(config, baselineSpec(spec)), "target"),
        name: "target (baseline)",
        tagger: newTagger(shared, spec.seed),
        train: data.labelled,
        dev: data.dev,
        task,
        seed: spec.seed,
        settings: target,
      },
      progress,
    );
  if (spec.recipe === "baseline") {
    const { tagger, result } = await baselinePhase();
    return { tagger, phases: [result], sourceSentences: 0, pseudoAdded: [] };
  }
  const dir = runDirectory(config, spec);
  if (spec.recipe === "transfer") {
    const pool = context.pools.get(spec.source as string) as SourcePool;
    const source = sourceSample(pool, (spec.k as number) * config.labelled, spec.seed);
    const first = await trainPhase(
      {
        dir: join(dir, "source"),
        name: `source ${spec.source} ×${spec.k}`,
        tagger: newTagger(shared, spec.seed),
        train: source,
        dev: data.dev,
        task,
        seed: spec.seed,
        settings: settingsOf(config, { epochs: config.sourceEpochs, patience: config.patience }),
      },
      progress,
    );
    const second = await trainPhase(
      {
        dir: join(dir, "target"),
        name: "fine-tune on target",
        tagger: first.tagger,
        train: data.labelled,
        dev: data.dev,
        task,
        seed: spec.seed,
        settings: target,
      },
      progress,
    );
    return {
      tagger: second.tagger,
      phases: [first.result, second.result],
      sourceSentences: source.length,
      pseudoAdded: [],
    };
  }
  // Iterative pseudo-labelling, starting from the baseline's model (the same folder as the baseline run).
  const start = await baselinePhase();
  let current = start.tagger;
  const phases = [start.result];
  const rounds = new PseudoLabelRounds(config.pseudo);
  for (let round = 0; round < config.pseudo.rounds; round += 1) {
    const roundDir = join(dir, `round-${round + 1}`);
    mkdirSync(roundDir, { recursive: true });
    const file = join(roundDir, "candidates.json");
    let candidates: PseudoLabelCandidate[];
    if (existsSync(file)) candidates = JSON.parse(readFileSync(file, "utf8"));
    else {
      const session = await compileTagger(current, target, spec.seed);
      try {
        candidates = await labelCandidates(current, session, rounds.remaining(data.unlabelled));
      } finally {
        await session.release();
      }
      writeFileAtomic(file, JSON.stringify(candidates));
    }
    const added = rounds.select(round, candidates);
    progress.log(
      `  ${runKey(spec)} round ${round + 1}: ${added.length} of ${candidates.length} pseudo-labelled sentences added (${rounds.added.length} in all)`,
    );
    const next = await trainPhase(
      {
        dir: join(roundDir, "target"),
        name: `pseudo round ${round + 1}`,
        tagger: current,
        train: rounds.trainingSet(data.labelled),
        dev: data.dev,
        task,
        seed: spec.seed,
        settings: target,
      },
      progress,
    );
    current = next.tagger;
    phases.push(next.result);
  }
  return {
    tagger: current,
    phases,
    sourceSentences: 0,
    pseudoAdded: rounds.selector.rounds.map((r) => r.added),
  };
}

async function loadContext(config: ExperimentConfig, target: TargetName): Promise<TargetContext> {
  const splits = await loadTargetSplits(target);
  const pools = new Map<string, SourcePool>();
  for (const source of config.sources[target] ?? []) pools.set(source, await loadSourcePool(target, source));
  return { splits, pools };
}

function vocabularyText(context: TargetContext): { labelled: TaggedSentence[]; text: string[][] } {
  const pools = [...context.pools.values()].flatMap((p) => p.sentences);
  // Each language once, even when two pooled sources share one.
  const labelled = [...new Set([...context.splits.trainPool, ...pools])];
  return {
    labelled,
    text: [...labelled.map((s) => [...s.words]), ...context.splits.extraText.map((s) => [...s.words])],
  };
}

/**
 * Runs every planned run that `runs.jsonl` under `config.out` does not already hold (same key and
 * config hash), appending each as it finishes, then writes `table.md`, `table.tex` and `sweep.svg`.
 * Interrupted runs resume from their checkpoints under `<out>/work`.
 */
export async function runExperiment(config: ExperimentConfig, progress: Progress): Promise<ExperimentResult> {
  mkdirSync(config.out, { recursive: true });
  const contexts = new Map<TargetName, TargetContext>();
  for (const target of config.targets) contexts.set(target, await loadContext(config, target));
  const sizes = Object.fromEntries(
    [...contexts].map(([target, context]) => [
      target,
      Object.fromEntries([...context.pools].map(([name, pool]) => [name, pool.sentences.length])),
    ]),
  );
  const plan = planRuns(config, sizes);
  for (const s of plan.skipped)
    progress.log(
      `skipping ${s.target} ← ${s.source} k=${s.k}: needs ${s.needed} source sentences, ${s.available} are bundled`,
    );
  const runsFile = join(config.out, "runs.jsonl");
  const hashes = new Map(plan.runs.map((spec) => [runKey(spec), hashSettings(runSettings(spec, config))]));
  const read = readRuns(runsFile);
  if (read.unreadable.length > 0)
    progress.log(
      `runs.jsonl: lines ${read.unreadable.join(", ")} were cut short by an interruption; those runs train again`,
    );
  const done = new Map(finishedRuns(read.records, hashes).map((r) => [r.key, r]));
  if (done.size > 0)
    progress.log(`resuming: ${done.size} of ${plan.runs.length} runs already finished in ${runsFile}`);
  let trained = 0;
  const pending = plan.runs.filter((spec) => !done.has(runKey(spec)));
  for (const spec of plan.runs) {
    const key = runKey(spec);
    if (done.has(key)) continue;
    progress.run(key, done.size, plan.runs.length);
    const context = contexts.get(spec.target) as TargetContext;
    if (!context.shared) {
      const { labelled, text } = vocabularyText(context);
      context.shared = sharedVocabularies(labelled, text, config.model, TASKS[spec.target].task);
      progress.log(
        `${spec.target}: ${context.splits.description}; shared WordPiece vocabulary of ${context.shared.tokenizer.vocabSize} pieces, ${context.shared.config.words.words.length} words (seen twice or more)`,
      );
    }
    const began = performance.now();
    const data = runData(context.splits, spec.seed, config.labelled, config.unlabelled);
    const outcome = await trainRecipe(spec, config, context, data, progress);
    const task = TASKS[spec.target].task;
    const session = await compileTagger(
      outcome.tagger,
      settingsOf(config, targetBudget(config, spec.target)),
      spec.seed,
    );
    let test: { score: number; labels: string[][] };
    try {
      test = await evaluateOn(outcome.tagger, session, data.test, task);
    } finally {
      await session.release();
    }
    const last = outcome.phases[outcome.phases.length - 1] as PhaseResult;
    const record: RunRecord = {
      key,
      target: spec.target,
      task,
      recipe: spec.recipe,
      source: spec.source,
      k: spec.k,
      seed: spec.seed,
      score: test.score,
      dev: last.dev,
      epochs: outcome.phases.reduce((sum, p) => sum + p.epochs, 0),
      steps: outcome.phases.reduce((sum, p) => sum + p.steps, 0),
      seconds: Math.round((performance.now() - began) / 100) / 10,
      configHash: hashes.get(key) as string,
      labelled: data.labelled.length,
      sourceSentences: outcome.sourceSentences,
      pseudoAdded: outcome.pseudoAdded,
      sentenceTotals: sentenceTotals(task, data.test, test.labels),
    };
    appendRun(runsFile, record);
    done.set(key, record);
    trained += 1;
    progress.log(
      `${key}: test ${(100 * record.score).toFixed(2)} (dev ${(100 * record.dev).toFixed(2)}, ${record.steps} steps, ${record.seconds} s)`,
    );
    // Checkpoints are no longer needed once the run is recorded; the baseline's model stays until
    // the pseudo-labelling run of the same seed (which starts from it) is recorded too.
    const laterPseudo = pending
      .slice(pending.indexOf(spec) + 1)
      .some((s) => s.recipe === "pseudo" && s.seed === spec.seed && s.target === spec.target);
    if (spec.recipe !== "baseline") rmSync(runDirectory(config, spec), { recursive: true, force: true });
    if (spec.recipe === "pseudo" || (spec.recipe === "baseline" && !laterPseudo))
      rmSync(runDirectory(config, baselineSpec(spec)), { recursive: true, force: true });
  }
  const records = plan.runs.map((spec) => done.get(runKey(spec)) as RunRecord);
  const report = buildReport(records);
  const files = {
    runs: runsFile,
    markdown: join(config.out, "table.md"),
    latex: join(config.out, "table.tex"),
    svg: join(config.out, "sweep.svg"),
  };
  writeFileSync(files.markdown, report.markdown);
  writeFileSync(files.latex, report.latex);
  writeFileSync(files.svg, await sweepSvg(sweepPoints(records)));
  return { plan, trained, records, report, files };
}
