import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePretrained, SHORT as PRETRAINING, type PretrainingOptions } from "@xlt/example-layerwise-lr";
import { WordTokenizer } from "@xlt/tokenize";
import { type CompareData, loadPretrainingText } from "./data.js";
import { CompareError } from "./errors.js";
import { METHOD_SETTINGS } from "./methods.js";
import type { CompareOptions } from "./options.js";
import type { JobPayload } from "./payload.js";
import { appendRecord, checkRecord, type Job, pending, plan, type RunRecord, readRecords } from "./plan.js";
import { type Report, report } from "./report.js";
import { type EncodedData, encodeData, runJob } from "./run.js";

/** Runs one job on a checkpoint; `data` is the data encoded with its tokenizer. */
export type Runner = (job: Job, checkpoint: string, data: EncodedData) => Promise<RunRecord>;

/** Runs jobs in this process (tests; memory figures then include what earlier runs left behind). */
export const inProcessRunner =
  (options: CompareOptions): Runner =>
  (job, checkpoint, data) =>
    runJob(job, { checkpoint, options, data });

/**
 * Runs every job in a fresh Node process (`script`, by default `dist/job.js`), so each run's
 * peak-memory figure is its own: the child parses the same command line, loads and encodes the data
 * itself, runs the job and prints its record as the last line of its standard output; its progress
 * goes to our standard error.
 */
export const childProcessRunner =
  (
    argv: readonly string[],
    defaultOut: string,
    script = fileURLToPath(new URL("./job.js", import.meta.url)),
  ): Runner =>
  (job, checkpoint) =>
    new Promise((resolve, reject) => {
      const payload: JobPayload = { argv, defaultOut, job, checkpoint };
      const child = spawn(process.execPath, [script, JSON.stringify(payload)], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
      });
      child.on("error", reject);
      child.on("close", (code) => {
        const fn = "childProcessRunner";
        if (code !== 0) {
          reject(new CompareError(fn, `job ${JSON.stringify(job)}`, "exit code 0", String(code)));
          return;
        }
        const last = out.trim().split("\n").at(-1) ?? "";
        let value: unknown;
        try {
          value = JSON.parse(last);
        } catch {
          reject(
            new CompareError(fn, "the child's last line", "a JSON record", JSON.stringify(last.slice(0, 60))),
          );
          return;
        }
        try {
          resolve(checkRecord(value, "the child's record", fn));
        } catch (error) {
          reject(error);
        }
      });
    });

/** layerwise-lr's pretraining recipe (shape, batch, learning rate, 64 tokens) with this comparison's output directory, steps and threads. */
export function pretrainingOptions(options: CompareOptions): PretrainingOptions {
  return {
    shape: PRETRAINING.shape,
    pretrainBatch: PRETRAINING.pretrainBatch,
    pretrainLr: PRETRAINING.pretrainLr,
    maxTokens: PRETRAINING.maxTokens,
    pretrainSteps: options.pretrainSteps,
    out: options.out,
    threads: options.threads,
  };
}

/** What a comparison run leaves: all records (earlier runs included) and the tables when there are ≥ 2 seeds. */
export interface CompareResult {
  readonly records: readonly RunRecord[];
  readonly report: Report | null;
  /** Runs made by this invocation (the rest were read back from `runs.jsonl`). */
  readonly ran: number;
}

/**
 * The settings the records depend on (a results file made otherwise is not extended): the
 * checkpoint (relative to `out` when it lies inside, as the cached encoder does, so a committed
 * `settings.json` holds in any clone), epochs, data sizes and every method's learning rate.
 */
export function studySettings(options: CompareOptions, checkpoint: string) {
  const { lmEpochs, tagEpochs, trainSentences, batchSize, maxTokens } = options;
  const lr = Object.fromEntries(
    Object.entries(METHOD_SETTINGS).map(([method, setting]) => [method, setting.lr]),
  );
  const inside = checkpoint.startsWith(`${options.out}${sep}`);
  return {
    checkpoint: inside ? relative(options.out, checkpoint) : checkpoint,
    lmEpochs,
    tagEpochs,
    trainSentences,
    batchSize,
    maxTokens,
    lr,
  };
}

const outcome = (record: RunRecord) =>
  record.task === "lm"
    ? `perplexity ${record.score.toFixed(1)}, pseudo-perplexity ${record.pseudoPerplexity?.toFixed(1) ?? "–"}`
    : `accuracy ${(100 * record.score).toFixed(1)}%`;

/**
 * Runs the comparison into `options.out`: the pretrained encoder (layerwise-lr's `ensurePretrained`
 * on Danish, Swedish and Icelandic text, cached in `<out>/pretrained`; or `--checkpoint`), then every
 * planned run not yet in `runs.jsonl` (appended as each finishes, so an interrupted comparison
 * resumes), then `table.md` and `table.tex`.
 */
export async function runStudy(
  options: CompareOptions,
  data: CompareData,
  log: (line: string) => void,
  runner: Runner,
): Promise<CompareResult> {
  mkdirSync(options.out, { recursive: true });
  const checkpoint =
    options.checkpoint ??
    (await ensurePretrained(pretrainingOptions(options), await loadPretrainingText(), log));
  const tokenizerPath = join(checkpoint, "tokenizer.json");
  if (!existsSync(tokenizerPath))
    throw new CompareError("runStudy", "checkpoint", `a tokenizer.json in ${checkpoint}`, "none");
  const encoded = encodeData(WordTokenizer.fromFile(tokenizerPath), data, options.maxTokens);
  const settingsPath = join(options.out, "settings.json");
  const current = `${JSON.stringify(studySettings(options, checkpoint), null, 2)}\n`;
  if (existsSync(settingsPath) && readFileSync(settingsPath, "utf8") !== current)
    throw new CompareError(
      "runStudy",
      settingsPath,
      `results made with ${current.trim()}`,
      `${readFileSync(settingsPath, "utf8").trim()} (delete runs.jsonl and settings.json, or choose another --out)`,
    );
  writeFileSync(settingsPath, current);
  const recordsPath = join(options.out, "runs.jsonl");
  const jobs = plan(options.seeds, options.methods);
  const remaining = pending(jobs, readRecords(recordsPath));
  log(
    `runs: ${remaining.length} of ${jobs.length} to go (${data.lmTrain.length} adaptation and ${data.lmHeldOut.length} held-out Faroese sentences; ${data.tagTrain.length} UPOS training and ${data.tagTest.length} test sentences)`,
  );
  for (const [index, job] of remaining.entries()) {
    const record = await runner(job, checkpoint, encoded);
    appendRecord(recordsPath, record);
    const rate = record.stepMs === null ? "" : `, ${record.stepMs.toFixed(0)} ms/step`;
    log(
      `run ${index + 1}/${remaining.length} ${job.method} ${job.task} seed ${job.seed}: ${outcome(record)} (${record.trainable.toLocaleString("en-US")} trainable${rate}, ${record.seconds} s)`,
    );
  }
  const records = readRecords(recordsPath).filter(
    (record) =>
      record.seed <= options.seeds && (record.method === "none" || options.methods.includes(record.method)),
  );
  if (options.seeds < 2) {
    log("one seed per method: no table (ASO needs at least two)");
    return { records, report: null, ran: remaining.length };
  }
  const result = report(records, options.methods);
  writeFileSync(join(options.out, "table.md"), result.markdown);
  writeFileSync(join(options.out, "table.tex"), result.latex);
  return { records, report: result, ran: remaining.length };
}
