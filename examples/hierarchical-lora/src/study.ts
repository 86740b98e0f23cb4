import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  encodeTagged,
  ensurePretrained,
  type PretrainingOptions,
  specialIds,
} from "@xlt/example-layerwise-lr";
import { WordTokenizer } from "@xlt/tokenize";
import type { HqlData } from "./data.js";
import { HqlError } from "./errors.js";
import { type EncodedLanguage, METHODS, runMethod } from "./methods.js";
import type { HqlOptions } from "./options.js";
import { appendRecords, pending, plan, type RunRecord, readRecords } from "./plan.js";
import { type Report, report } from "./report.js";
import { loadBase } from "./train.js";
import type { StudyTrees } from "./trees.js";

/** What a study leaves: all records (earlier runs included) and the tables when there are ≥ 2 seeds. */
export interface StudyResult {
  readonly records: readonly RunRecord[];
  readonly report: Report | null;
  /** Runs trained by this invocation (the rest were read back from `runs.jsonl`). */
  readonly ran: number;
}

/** The pretraining recipe in the form `ensurePretrained` of the layerwise-lr example reads. */
function pretrainingOptions(options: HqlOptions): PretrainingOptions {
  return {
    pretrainSteps: options.pretrainSteps,
    pretrainBatch: options.pretrainBatch,
    pretrainLr: options.pretrainLr,
    maxTokens: options.maxTokens,
    shape: options.shape,
    out: options.out,
    threads: options.threads,
  };
}

/** The settings the records depend on: a results file made otherwise is not extended. */
function settings(options: HqlOptions, trees: StudyTrees, levels: number) {
  const { epochs, batchSize, lr, rank, trainSize, testSize, textCap, dataSeed, maxTokens, shape } = options;
  const { pretrainSteps, pretrainBatch, pretrainLr } = options;
  return {
    base: { shape, pretrainSteps, pretrainBatch, pretrainLr, textCap },
    epochs,
    levels,
    batchSize,
    lr,
    rank,
    trainSize,
    testSize,
    dataSeed,
    maxTokens,
    trees,
  };
}

/**
 * Runs the comparison into `options.out`: the shared base (pretrained once, cached in
 * `<out>/pretrained`), then every planned run not yet in `runs.jsonl` (appended as each finishes, so
 * an interrupted study resumes), then the ASO comparison with per-language LoRAs as `table.md` and
 * `table.tex`.
 */
export async function runStudy(
  options: HqlOptions,
  data: HqlData,
  trees: StudyTrees,
  levels: number,
  log: (line: string) => void,
): Promise<StudyResult> {
  mkdirSync(options.out, { recursive: true });
  const settingsPath = join(options.out, "settings.json");
  const current = `${JSON.stringify(settings(options, trees, levels), null, 2)}\n`;
  if (existsSync(settingsPath) && readFileSync(settingsPath, "utf8") !== current)
    throw new HqlError(
      "runStudy",
      settingsPath,
      `results made with ${JSON.stringify(settings(options, trees, levels))}`,
      `${JSON.stringify(JSON.parse(readFileSync(settingsPath, "utf8")))} (delete runs.jsonl and settings.json, or choose another --out)`,
    );
  const checkpoint = await ensurePretrained(pretrainingOptions(options), data.text, log);
  writeFileSync(settingsPath, current);
  const tokenizer = WordTokenizer.fromFile(join(checkpoint, "tokenizer.json"));
  const padId = specialIds(tokenizer)["[PAD]"];
  const languages: EncodedLanguage[] = data.languages.map((entry) => ({
    language: entry.language,
    train: encodeTagged(tokenizer, entry.train, data.tags, options.maxTokens),
    test: encodeTagged(tokenizer, entry.test, data.tags, options.maxTokens),
  }));
  const codes = languages.map((entry) => entry.language);
  const recordsPath = join(options.out, "runs.jsonl");
  const remaining = pending(plan(options.seeds), readRecords(recordsPath), codes);
  log(
    `${remaining.length} of ${options.seeds * METHODS.length} runs to go (${codes.join(", ")}: ${options.trainSize} training and ${options.testSize} test sentences each; ${levels} levels × ${options.epochs} epoch${options.epochs === 1 ? "" : "s"})`,
  );
  for (const [index, run] of remaining.entries()) {
    const started = performance.now();
    const base = await loadBase(checkpoint, data.tags, run.seed);
    const scores = await runMethod(run.method, {
      options,
      languages,
      trees,
      levels,
      base: base.model,
      baseValues: base.values,
      padId,
      seed: run.seed,
    });
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const records = scores.map((score) => ({ method: run.method, seed: run.seed, ...score, seconds }));
    appendRecords(recordsPath, records);
    log(
      `run ${index + 1}/${remaining.length} ${run.method} seed ${run.seed}: ${records.map((r) => `${r.language} ${(100 * r.score).toFixed(1)}%`).join(", ")} (${seconds} s)`,
    );
  }
  const records = readRecords(recordsPath).filter((record) => record.seed <= options.seeds);
  if (options.seeds < 2) {
    log("one seed per method: no significance table (ASO needs at least two)");
    return { records, report: null, ran: remaining.length };
  }
  const result = report(records);
  writeFileSync(join(options.out, "table.md"), result.markdown);
  writeFileSync(join(options.out, "table.tex"), result.latex);
  return { records, report: result, ran: remaining.length };
}
