import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { CompareError } from "./errors.js";
import { METHODS, type Method, TASKS, type Task } from "./methods.js";

/** `none`: the pretrained encoder's held-out perplexity before any adaptation (seed 0, no steps). */
export type RunMethod = Method | "none";

/** One run: a method, a task and a seed. */
export interface Job {
  readonly method: RunMethod;
  readonly task: Task;
  readonly seed: number;
}

/** A finished run: a line of `runs.jsonl`. */
export interface RunRecord extends Job {
  /** Held-out masked-LM perplexity (`lm`) or test word accuracy in [0, 1] (`upos`). */
  readonly score: number;
  /** Held-out pseudo-perplexity (`lm`), `null` for `upos`. */
  readonly pseudoPerplexity: number | null;
  /** Predicted tokens (`lm`) or scored words (`upos`). */
  readonly tokens: number;
  /** Trainable elements (0 for `none`) and all elements (NF4 weights included). */
  readonly trainable: number;
  readonly total: number;
  /** Bytes of the frozen weights as the session stores them (NF4 packed). */
  readonly frozenBytes: number;
  readonly steps: number;
  /** Median wall-clock milliseconds of a training step; `null` without steps. */
  readonly stepMs: number | null;
  /** Peak resident-set growth during training, MiB; `null` without steps or without `/proc`. */
  readonly stepMemoryMiB: number | null;
  /** The whole run (loading, compiling, training, evaluating), seconds. */
  readonly seconds: number;
}

/**
 * Every run: the unadapted encoder's perplexity first, then seed by seed every method on both tasks
 * (all methods of seed 1, then seed 2, …), so a run cut short still has the methods balanced.
 */
export function plan(seeds: number, methods: readonly Method[]): Job[] {
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new CompareError("plan", "seeds", "a positive integer", String(seeds));
  if (methods.length === 0) throw new CompareError("plan", "methods", "at least one method", "none");
  const jobs: Job[] = [{ method: "none", task: "lm", seed: 0 }];
  for (let seed = 1; seed <= seeds; seed += 1)
    for (const method of methods) for (const task of TASKS) jobs.push({ method, task, seed });
  return jobs;
}

const RUN_METHODS: readonly RunMethod[] = ["none", ...METHODS];

/** Checks a job read from JSON (a record's, or a child process's payload). */
export function checkJob(value: unknown, where: string, fn: string): Job {
  if (typeof value !== "object" || value === null)
    throw new CompareError(fn, where, "a JSON object", JSON.stringify(value));
  const { method, task, seed } = value as Record<string, unknown>;
  const knownMethod = RUN_METHODS.find((candidate) => candidate === method);
  if (!knownMethod)
    throw new CompareError(fn, `${where}.method`, `one of ${RUN_METHODS.join(", ")}`, JSON.stringify(method));
  const knownTask = TASKS.find((candidate) => candidate === task);
  if (!knownTask)
    throw new CompareError(fn, `${where}.task`, `one of ${TASKS.join(", ")}`, JSON.stringify(task));
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0)
    throw new CompareError(fn, `${where}.seed`, "an integer >= 0", JSON.stringify(seed));
  return { method: knownMethod, task: knownTask, seed };
}

const NUMBERS = ["score", "tokens", "trainable", "total", "frozenBytes", "steps", "seconds"] as const;
const NULLABLE = ["pseudoPerplexity", "stepMs", "stepMemoryMiB"] as const;

/** Checks a record read from JSON: a job and every measurement (finite numbers, or `null` where allowed). */
export function checkRecord(value: unknown, where: string, fn = "readRecords"): RunRecord {
  const job = checkJob(value, where, fn);
  const record = value as Record<string, unknown>;
  const numbers: Record<string, number> = {};
  for (const key of NUMBERS) {
    const entry = record[key];
    if (typeof entry !== "number" || !Number.isFinite(entry))
      throw new CompareError(fn, `${where}.${key}`, "a finite number", JSON.stringify(entry));
    numbers[key] = entry;
  }
  const nullable: Record<string, number | null> = {};
  for (const key of NULLABLE) {
    const entry = record[key];
    if (entry !== null && (typeof entry !== "number" || !Number.isFinite(entry)))
      throw new CompareError(fn, `${where}.${key}`, "a finite number or null", JSON.stringify(entry));
    nullable[key] = entry;
  }
  return {
    ...job,
    score: numbers.score as number,
    pseudoPerplexity: nullable.pseudoPerplexity ?? null,
    tokens: numbers.tokens as number,
    trainable: numbers.trainable as number,
    total: numbers.total as number,
    frozenBytes: numbers.frozenBytes as number,
    steps: numbers.steps as number,
    stepMs: nullable.stepMs ?? null,
    stepMemoryMiB: nullable.stepMemoryMiB ?? null,
    seconds: numbers.seconds as number,
  };
}

/**
 * The records of `path` (none if it does not exist). A last line cut off by a kill mid-write is
 * ignored; any other malformed line is an error naming its line number.
 */
export function readRecords(path: string): RunRecord[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8").split("\n");
  const records: RunRecord[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (lines.slice(index + 1).every((rest) => rest.trim() === "")) break;
      throw new CompareError(
        "readRecords",
        `${path}:${index + 1}`,
        "a JSON line",
        JSON.stringify(line.slice(0, 60)),
      );
    }
    records.push(checkRecord(value, `${path}:${index + 1}`));
  }
  return records;
}

/**
 * Appends a finished run's record in one write, first dropping a last line cut off by a kill
 * mid-write (so it cannot run into the new record).
 */
export function appendRecord(path: string, record: RunRecord): void {
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8");
    if (text !== "" && !text.endsWith("\n")) writeFileSync(path, text.slice(0, text.lastIndexOf("\n") + 1));
  }
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}

const key = (job: Job) => `${job.method}/${job.task}/${job.seed}`;

/** The planned jobs without a record. */
export function pending(jobs: readonly Job[], records: readonly RunRecord[]): Job[] {
  const done = new Set(records.map(key));
  return jobs.filter((job) => !done.has(key(job)));
}
