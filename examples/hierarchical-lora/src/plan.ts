import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { HqlError } from "./errors.js";
import { METHODS, type Method } from "./methods.js";

/** One run: a method and a seed (it trains and scores every language). */
export interface PlannedRun {
  readonly method: Method;
  readonly seed: number;
}

/** One language's result of a finished run: a line of `runs.jsonl`. */
export interface RunRecord {
  readonly method: Method;
  readonly seed: number;
  /** ISO 639 code of the language. */
  readonly language: string;
  /** UPOS word accuracy on the language's test set. */
  readonly score: number;
  /** Optimizer steps of the adapters the language's model is made of. */
  readonly steps: number;
  /** Wall-clock seconds of the whole run (all languages of the method and seed). */
  readonly seconds: number;
}

/**
 * Every run, seed by seed (all methods of seed 1, then seed 2, …), so a comparison cut short still
 * has the methods balanced.
 */
export function plan(seeds: number): PlannedRun[] {
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new HqlError("plan", "seeds", "a positive integer", String(seeds));
  return Array.from({ length: seeds }, (_, index) =>
    METHODS.map((method) => ({ method, seed: index + 1 })),
  ).flat();
}

function checkRecord(value: unknown, where: string): RunRecord {
  const fn = "readRecords";
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HqlError(fn, where, "a JSON object", JSON.stringify(value));
  const field = (key: string): unknown => Reflect.get(value, key);
  const method = METHODS.find((candidate) => candidate === field("method"));
  if (!method)
    throw new HqlError(
      fn,
      `${where}.method`,
      `one of ${METHODS.join(", ")}`,
      JSON.stringify(field("method")),
    );
  const number = (key: "seed" | "score" | "steps" | "seconds"): number => {
    const got = field(key);
    if (typeof got !== "number" || !Number.isFinite(got))
      throw new HqlError(fn, `${where}.${key}`, "a finite number", JSON.stringify(got));
    return got;
  };
  const language = field("language");
  if (typeof language !== "string" || language === "")
    throw new HqlError(fn, `${where}.language`, "a language code", JSON.stringify(language));
  return {
    method,
    seed: number("seed"),
    language,
    score: number("score"),
    steps: number("steps"),
    seconds: number("seconds"),
  };
}

/**
 * The records of `path` (none if it does not exist). A last line cut off by a kill mid-write is
 * ignored; any other malformed line is an error naming its line number. A run interrupted between
 * its lines is run again, so a method, seed and language may appear twice: the later record wins.
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
      throw new HqlError(
        "readRecords",
        `${path}:${index + 1}`,
        "a JSON line",
        JSON.stringify(line.slice(0, 60)),
      );
    }
    records.push(checkRecord(value, `${path}:${index + 1}`));
  }
  const latest = new Map(
    records.map((record) => [`${record.method}/${record.seed}/${record.language}`, record]),
  );
  return [...latest.values()];
}

/** Appends a finished run's records in one write, first dropping a last line cut off by an earlier kill. */
export function appendRecords(path: string, records: readonly RunRecord[]): void {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  if (text !== "" && !text.endsWith("\n")) writeFileSync(path, text.slice(0, text.lastIndexOf("\n") + 1));
  appendFileSync(path, records.map((record) => `${JSON.stringify(record)}\n`).join(""));
}

/** The planned runs that do not yet have a record for every one of `languages`. */
export function pending(
  runs: readonly PlannedRun[],
  records: readonly RunRecord[],
  languages: readonly string[],
): PlannedRun[] {
  const done = new Set(records.map((record) => `${record.method}/${record.seed}/${record.language}`));
  return runs.filter((run) =>
    languages.some((language) => !done.has(`${run.method}/${run.seed}/${language}`)),
  );
}
