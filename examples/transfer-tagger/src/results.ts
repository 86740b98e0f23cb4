import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { Recipe } from "./cli.js";
import { TransferError } from "./errors.js";
import type { TargetName } from "./tasks.js";

/** One finished run: a line of `runs.jsonl`. */
export interface RunRecord {
  readonly key: string;
  readonly target: TargetName;
  readonly task: "pos" | "ner";
  readonly recipe: Recipe;
  readonly source: string | null;
  readonly k: number | null;
  readonly seed: number;
  /** Test score: POS token accuracy or NER entity F1, in [0, 1]. */
  readonly score: number;
  /** Dev score of the model tested. */
  readonly dev: number;
  /** Epochs and optimizer steps over all the run's phases. */
  readonly epochs: number;
  readonly steps: number;
  /** Wall time of the run in the process that finished it. */
  readonly seconds: number;
  readonly configHash: string;
  readonly labelled: number;
  /** Source sentences of transfer (0 otherwise). */
  readonly sourceSentences: number;
  /** Sentences added in each pseudo-labelling round (empty otherwise). */
  readonly pseudoAdded: readonly number[];
  /** Per test sentence: POS `[correct, tokens]`, NER `[tp, predicted, gold]` (paired resampling). */
  readonly sentenceTotals: readonly (readonly number[])[];
}

const NUMBERS = [
  "seed",
  "score",
  "dev",
  "epochs",
  "steps",
  "seconds",
  "labelled",
  "sourceSentences",
] as const;
const STRINGS = ["key", "target", "task", "recipe", "configHash"] as const;

function isRecord(value: unknown): value is RunRecord {
  if (typeof value !== "object" || value === null) return false;
  const fields = value as Record<string, unknown>;
  return (
    NUMBERS.every((field) => typeof fields[field] === "number") &&
    STRINGS.every((field) => typeof fields[field] === "string") &&
    Array.isArray(fields.sentenceTotals) &&
    Array.isArray(fields.pseudoAdded)
  );
}

/** What `runs.jsonl` holds. */
export interface ReadRuns {
  readonly records: RunRecord[];
  /** 1-based numbers of lines that are not JSON: records cut short by a kill while being written (their runs train again). */
  readonly unreadable: number[];
}

/**
 * The runs in `file` (none when it does not exist). A line that is not JSON (a record cut short by a
 * kill) is reported in `unreadable` and its run trains again; a JSON line that is not a run record is
 * an error naming the line.
 */
export function readRuns(file: string): ReadRuns {
  if (!existsSync(file)) return { records: [], unreadable: [] };
  const records: RunRecord[] = [];
  const unreadable: number[] = [];
  for (const [index, line] of readFileSync(file, "utf8").split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      unreadable.push(index + 1);
      continue;
    }
    if (!isRecord(value))
      throw new TransferError(
        "readRuns",
        `${file}:${index + 1}`,
        "a run record with every field",
        line.slice(0, 60),
      );
    records.push(value);
  }
  return { records, unreadable };
}

/** Appends one run as a line of JSON (one write, so a kill leaves either the whole line or a cut one). */
export function appendRun(file: string, record: RunRecord): void {
  const text = readFileSync(file, { encoding: "utf8", flag: "a+" });
  // A line cut short by an earlier kill is closed first, so that it stays one unreadable line.
  const prefix = text.length > 0 && !text.endsWith("\n") ? "\n" : "";
  appendFileSync(file, `${prefix}${JSON.stringify(record)}\n`);
}

/** The records of the planned runs whose config hash matches (what resuming skips). */
export function finishedRuns(
  records: readonly RunRecord[],
  wanted: ReadonlyMap<string, string>,
): RunRecord[] {
  const byKey = new Map<string, RunRecord>();
  for (const record of records)
    if (wanted.get(record.key) === record.configHash) byKey.set(record.key, record);
  return [...byKey.values()];
}
