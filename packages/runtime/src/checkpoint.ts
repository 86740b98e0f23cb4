import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "@xlt/nn";
import { RuntimeError } from "./errors.js";

/** The trainer's own state, saved as JSON beside the tensors. */
export interface TrainerState {
  readonly epoch: number;
  /** Batches of `epoch` already trained on. */
  readonly batchInEpoch: number;
  /** Optimizer steps taken. */
  readonly step: number;
  /** The shuffle generator's state at the start of `epoch`. */
  readonly epochRandomState: number;
  readonly bestMetric: number | null;
  readonly bestStep: number | null;
  /** Evaluations since the best one (early stopping). */
  readonly sinceBest: number;
  /** Set when the run stopped early: resuming such a run trains no further. */
  readonly stopped?: true;
  /** Why the run stopped early (present with `stopped`). */
  readonly stopReason?: string;
}

/** A checkpoint: float tensors by name (parameters, `slot:path` optimizer state) and the trainer state. */
export interface Checkpoint {
  readonly tensors: ReadonlyMap<string, Float32Array | Float64Array>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly trainer: TrainerState;
}

/** Writes `data` to `path` atomically: a temporary file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, "w");
  try {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const directory = openSync(join(path, ".."), "r");
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

const POINTER = "latest.json";

/**
 * Saves a checkpoint as `<dir>/<name>/{model.safetensors, trainer.json}`, each written atomically,
 * then points `<dir>/latest.json` (or `best.json`) at it, atomically. A kill at any moment leaves
 * the previous pointer and its files intact.
 */
export function saveCheckpoint(
  directory: string,
  name: string,
  checkpoint: Checkpoint,
  pointer = POINTER,
): void {
  const target = join(directory, name);
  mkdirSync(target, { recursive: true });
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [key, data] of checkpoint.tensors) {
    const shape = checkpoint.shapes.get(key) ?? [data.length];
    tensors.set(
      key,
      data instanceof Float32Array ? { dtype: "F32", shape, data } : { dtype: "F64", shape, data },
    );
  }
  writeFileAtomic(join(target, "model.safetensors"), writeSafetensors(tensors, { format: "xlt" }));
  writeFileAtomic(join(target, "trainer.json"), `${JSON.stringify(checkpoint.trainer, null, 1)}\n`);
  writeFileAtomic(join(directory, pointer), `${JSON.stringify({ name })}\n`);
}

/** The checkpoint name a pointer file holds, or `null` when there is no pointer. */
export function checkpointName(directory: string, pointer = POINTER): string | null {
  const pointerPath = join(directory, pointer);
  if (!existsSync(pointerPath)) return null;
  const { name } = JSON.parse(readFileSync(pointerPath, "utf8")) as { name?: unknown };
  if (typeof name !== "string" || !/^[\w.-]+$/.test(name))
    throw new RuntimeError("loadCheckpoint", pointer, "a checkpoint name", JSON.stringify(name));
  return name;
}

/** Loads the checkpoint `latest.json` (or `pointer`) points at, or `null` when there is none. */
export function loadCheckpoint(directory: string, pointer = POINTER): Checkpoint | null {
  const name = checkpointName(directory, pointer);
  if (name === null) return null;
  const target = join(directory, name);
  const file = readSafetensors(new Uint8Array(readFileSync(join(target, "model.safetensors"))));
  const tensors = new Map<string, Float32Array | Float64Array>();
  const shapes = new Map<string, readonly number[]>();
  for (const [key, tensor] of file.tensors) {
    if (tensor.dtype !== "F32" && tensor.dtype !== "F64")
      throw new RuntimeError("loadCheckpoint", key, "an F32 or F64 tensor", tensor.dtype);
    tensors.set(key, tensor.data);
    shapes.set(key, tensor.shape);
  }
  const trainer = parseTrainerState(
    readFileSync(join(target, "trainer.json"), "utf8"),
    `${name}/trainer.json`,
  );
  return { tensors, shapes, trainer };
}

const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 0;

/** Parses and checks a `trainer.json`; `file` names it in errors. */
export function parseTrainerState(text: string, file: string): TrainerState {
  const fail = (argument: string, expected: string, got: unknown): never => {
    throw new RuntimeError("loadCheckpoint", argument, expected, JSON.stringify(got) ?? String(got));
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(file, "JSON", text.slice(0, 40));
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return fail(file, "a JSON object", parsed);
  const record: Record<string, unknown> = { ...parsed };
  const known = [
    "epoch",
    "batchInEpoch",
    "step",
    "epochRandomState",
    "bestMetric",
    "bestStep",
    "sinceBest",
    "stopped",
    "stopReason",
  ];
  for (const key of Object.keys(record))
    if (!known.includes(key)) fail(`${file}: ${key}`, "no such field", record[key]);
  const count = (key: string): number => {
    const value = record[key];
    return isCount(value) ? value : fail(`${file}: ${key}`, "a non-negative integer", value);
  };
  const { bestMetric, bestStep, epochRandomState, stopped, stopReason } = record;
  if (!(isCount(epochRandomState) && epochRandomState <= 0xffffffff))
    fail(`${file}: epochRandomState`, "an unsigned 32-bit integer", epochRandomState);
  if (!(bestMetric === null || (typeof bestMetric === "number" && Number.isFinite(bestMetric))))
    fail(`${file}: bestMetric`, "a finite number or null", bestMetric);
  if (!(bestStep === null || isCount(bestStep)))
    fail(`${file}: bestStep`, "a non-negative integer or null", bestStep);
  if (!(stopped === undefined || stopped === true)) fail(`${file}: stopped`, "true or absent", stopped);
  if (!(stopReason === undefined || typeof stopReason === "string"))
    fail(`${file}: stopReason`, "a string or absent", stopReason);
  return {
    epoch: count("epoch"),
    batchInEpoch: count("batchInEpoch"),
    step: count("step"),
    epochRandomState: Number(epochRandomState),
    bestMetric: typeof bestMetric === "number" ? bestMetric : null,
    bestStep: typeof bestStep === "number" ? bestStep : null,
    sinceBest: count("sinceBest"),
    ...(stopped === true ? { stopped } : {}),
    ...(typeof stopReason === "string" ? { stopReason } : {}),
  };
}

/** Removes checkpoint directories under `directory` except those named in `keep`. */
export function pruneCheckpoints(directory: string, keep: readonly string[]): void {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.startsWith("step-") && !keep.includes(entry.name))
      rmSync(join(directory, entry.name), { recursive: true, force: true });
  }
}
