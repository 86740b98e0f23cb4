import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { CONDITIONS, type Condition } from "./conditions.js";
import { StudyError } from "./errors.js";
import { HEADS, type TaggingHeadKind } from "./options.js";

/** One fine-tuning run: a condition and a seed. */
export interface PlannedRun {
  readonly condition: Condition;
  readonly seed: number;
}

/** One evaluation of a finished run: a line of `runs.jsonl`. */
export interface RunRecord {
  readonly condition: Condition;
  readonly seed: number;
  /** ISO 639 code of the evaluated language. */
  readonly language: string;
  /** `source`: held-out sentences of the fine-tuning language; `target`: zero-shot. */
  readonly role: "source" | "target";
  /** Word-level tagging accuracy. */
  readonly score: number;
  readonly steps: number;
  readonly seconds: number;
  /** The tagging head when it is not the study's softmax (records of a softmax run have none). */
  readonly head?: "crf";
}

/** The head a record was made with. */
export const headOf = (record: RunRecord): TaggingHeadKind => record.head ?? "softmax";

/**
 * Every run of the study, seed by seed (all conditions of seed 1, then seed 2, …), so a run cut
 * short still has the conditions balanced.
 */
export function plan(seeds: number): PlannedRun[] {
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new StudyError("plan", "seeds", "a positive integer", String(seeds));
  return Array.from({ length: seeds }, (_, index) =>
    CONDITIONS.map((condition) => ({ condition, seed: index + 1 })),
  ).flat();
}

const ROLES: readonly RunRecord["role"][] = ["source", "target"];

function checkRecord(value: unknown, where: string): RunRecord {
  const fn = "readRecords";
  if (typeof value !== "object" || value === null)
    throw new StudyError(fn, where, "a JSON object", JSON.stringify(value));
  const record = value as Record<string, unknown>;
  const condition = record.condition;
  if (typeof condition !== "string" || !(CONDITIONS as readonly string[]).includes(condition))
    throw new StudyError(
      fn,
      `${where}.condition`,
      `one of ${CONDITIONS.join(", ")}`,
      JSON.stringify(condition),
    );
  for (const key of ["seed", "score", "steps", "seconds"] as const) {
    if (typeof record[key] !== "number" || !Number.isFinite(record[key]))
      throw new StudyError(fn, `${where}.${key}`, "a finite number", JSON.stringify(record[key]));
  }
  if (typeof record.language !== "string" || record.language === "")
    throw new StudyError(fn, `${where}.language`, "a language code", JSON.stringify(record.language));
  if (!ROLES.includes(record.role as RunRecord["role"]))
    throw new StudyError(fn, `${where}.role`, '"source" or "target"', JSON.stringify(record.role));
  if (record.head !== undefined && record.head !== "crf")
    throw new StudyError(fn, `${where}.head`, `"crf" or none (${HEADS[0]})`, JSON.stringify(record.head));
  return {
    condition: condition as Condition,
    seed: record.seed as number,
    language: record.language,
    role: record.role as RunRecord["role"],
    score: record.score as number,
    steps: record.steps as number,
    seconds: record.seconds as number,
    ...(record.head === "crf" ? { head: "crf" as const } : {}),
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
      const last = lines.slice(index + 1).every((rest) => rest.trim() === "");
      if (last) break;
      throw new StudyError(
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

/** Appends a finished run's records in one write. */
export function appendRecords(path: string, records: readonly RunRecord[]): void {
  appendFileSync(path, records.map((record) => `${JSON.stringify(record)}\n`).join(""));
}

/** The planned runs that do not yet have a record for every one of `languages`. */
export function pending(
  runs: readonly PlannedRun[],
  records: readonly RunRecord[],
  languages: readonly string[],
): PlannedRun[] {
  const done = new Set(records.map((record) => `${record.condition}/${record.seed}/${record.language}`));
  return runs.filter((run) =>
    languages.some((language) => !done.has(`${run.condition}/${run.seed}/${language}`)),
  );
}
