import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WordTokenizer } from "@xlt/tokenize";
import type { StudyData } from "./data.js";
import { StudyError } from "./errors.js";
import { type EncodedEvaluation, fineTune } from "./finetune.js";
import type { StudyOptions } from "./options.js";
import { appendRecords, headOf, pending, plan, type RunRecord, readRecords } from "./plan.js";
import { ensurePretrained } from "./pretrain.js";
import { type Report, report } from "./report.js";
import { encodeTagged } from "./tagging.js";

/** What a study run leaves: all records (earlier runs included) and the tables when there are ≥ 2 seeds. */
export interface StudyResult {
  readonly records: readonly RunRecord[];
  readonly report: Report | null;
  /** Runs fine-tuned by this invocation (the rest were read back from `runs.jsonl`). */
  readonly ran: number;
}

/**
 * The fine-tuning settings the records depend on: a results file made otherwise is not extended. The
 * head is named when it is not the study's softmax (so settings of softmax results stay as they were).
 */
export function settings(options: StudyOptions, checkpoint: string) {
  const { epochs, batchSize, lr, factor, blocks, maxTokens, head } = options;
  return {
    checkpoint,
    epochs,
    batchSize,
    lr,
    factor,
    blocks,
    maxTokens,
    ...(head === "softmax" ? {} : { head }),
  };
}

/**
 * Runs the study into `options.out`: the pretrained encoder (or `--checkpoint`), then every planned
 * run not yet in `runs.jsonl` (appended as each finishes, so an interrupted study resumes), then the
 * ASO comparison over the target languages as `table.md` and `table.tex`.
 */
export async function runStudy(
  options: StudyOptions,
  data: StudyData,
  log: (line: string) => void,
): Promise<StudyResult> {
  mkdirSync(options.out, { recursive: true });
  const checkpoint = options.checkpoint ?? (await ensurePretrained(options, data.text, log));
  const tokenizer = WordTokenizer.fromFile(join(checkpoint, "tokenizer.json"));
  const padId = tokenizer.padTokenId;
  if (padId === undefined) throw new StudyError("runStudy", "tokenizer", "a padding token", "none");
  const settingsPath = join(options.out, "settings.json");
  const current = `${JSON.stringify(settings(options, checkpoint), null, 2)}\n`;
  if (existsSync(settingsPath) && readFileSync(settingsPath, "utf8") !== current)
    throw new StudyError(
      "runStudy",
      settingsPath,
      `results made with ${current.trim()}`,
      `${readFileSync(settingsPath, "utf8").trim()} (delete runs.jsonl and settings.json, or choose another --out)`,
    );
  writeFileSync(settingsPath, current);
  const train = encodeTagged(tokenizer, data.train, data.tags, options.maxTokens);
  const evaluations: EncodedEvaluation[] = data.evaluations.map((evaluation) => ({
    language: evaluation.language,
    role: evaluation.role,
    sentences: encodeTagged(tokenizer, evaluation.sentences, data.tags, options.maxTokens),
  }));
  const recordsPath = join(options.out, "runs.jsonl");
  const languages = evaluations.map((evaluation) => evaluation.language);
  // Only records of this head count (settings.json already keeps one head per output directory).
  const ownRecords = () => readRecords(recordsPath).filter((record) => headOf(record) === options.head);
  const remaining = pending(plan(options.seeds), ownRecords(), languages);
  log(
    `fine-tuning: ${remaining.length} of ${options.seeds * 4} runs to go (${train.length} training sentences; evaluating ${languages.join(", ")})`,
  );
  for (const [index, run] of remaining.entries()) {
    const records = await fineTune(run, checkpoint, options, train, evaluations, data.tags, padId);
    appendRecords(recordsPath, records);
    log(
      `run ${index + 1}/${remaining.length} ${run.condition} seed ${run.seed}: ${records.map((r) => `${r.language} ${(100 * r.score).toFixed(1)}%`).join(", ")} (${records[0]?.seconds ?? 0} s)`,
    );
  }
  const records = ownRecords().filter((record) => record.seed <= options.seeds);
  if (options.seeds < 2) {
    log("one seed per condition: no significance table (ASO needs at least two)");
    return { records, report: null, ran: remaining.length };
  }
  const result = report(records);
  writeFileSync(join(options.out, "table.md"), `${result.markdown}\n`);
  writeFileSync(join(options.out, "table.tex"), result.latex);
  return { records, report: result, ran: remaining.length };
}
