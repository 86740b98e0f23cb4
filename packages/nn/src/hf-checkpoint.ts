import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NnError } from "./errors.js";
import type { ParameterTree } from "./parameters.js";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "./safetensors.js";

/** Anything with a parameter tree: every model a Hugging Face architecture builds. */
export interface HfModel {
  readonly parameters: ParameterTree;
}

/** One parameter's place in a Hugging Face state dict. */
export interface HfTensorMapping {
  /** The xlt parameter path (dotted, as `flatten` gives it). */
  readonly path: string;
  /** The Hugging Face state-dict key, as the model class itself names it (head models with the base-model prefix). */
  readonly name: string;
  /** Hugging Face stores `[out, in]` (torch `nn.Linear`) where xlt's `Linear` is `[in, out]`. */
  readonly transpose?: boolean;
}

/**
 * How one family of Hugging Face models (one or more `model_type`s) maps onto xlt modules. Methods
 * (not function properties), so an architecture of a specific model type is an `HfArchitecture`.
 */
export interface HfArchitecture<M extends HfModel = HfModel> {
  /** The `model_type` values of `config.json` this architecture reads. */
  readonly modelTypes: readonly string[];
  /**
   * The base model's attribute in head models (`"bert"` for `bert.encoder…`). A checkpoint of the
   * base model (no prefix) loads into a head model and the other way round, as `from_pretrained`.
   */
  readonly prefix?: string;
  /** The model a `config.json` describes (its `architectures[0]` picks the head). */
  fromConfig(config: Readonly<Record<string, unknown>>): M;
  /** Every parameter of `model` exactly once, with its Hugging Face name. */
  mapping(model: M): HfTensorMapping[];
  /** The `config.json` fields `model` determines (`model_type`, `architectures`, sizes, labels). */
  toConfig(model: M): Record<string, unknown>;
  /**
   * Keys that alias a parameter (an output layer tied to the embeddings): accepted when present,
   * never loaded, and written back (with the parameter's current value) only if the source had them.
   */
  tied?(model: M): HfTensorMapping[];
  /**
   * Keys a checkpoint may hold that the model does not use (buffers such as `position_ids`, a
   * pooler that a token-classification model lacks): neither loaded nor reported, and carried
   * unchanged into a save.
   */
  ignored?(model: M): readonly RegExp[];
}

/** What went wrong reading or writing a checkpoint. */
export type HfCheckpointProblem = "file" | "unsupported-model-type" | "keys" | "shape" | "dtype";

/**
 * The error of checkpoint loading and saving, with the problem's kind and, for key mismatches, the
 * missing and unexpected Hugging Face names; for an unsupported `model_type`, the supported ones.
 */
export class HfCheckpointError extends NnError {
  constructor(
    fn: string,
    argument: string,
    expected: string,
    got: string,
    readonly problem: HfCheckpointProblem,
    readonly details: {
      readonly missing?: readonly string[];
      readonly unexpected?: readonly string[];
      readonly supported?: readonly string[];
    } = {},
  ) {
    super(fn, argument, expected, got);
  }

  get missing(): readonly string[] {
    return this.details.missing ?? [];
  }

  get unexpected(): readonly string[] {
    return this.details.unexpected ?? [];
  }

  get supported(): readonly string[] {
    return this.details.supported ?? [];
  }
}

/** The weights file of a single-file checkpoint. */
export const WEIGHTS_NAME = "model.safetensors";
/** The index of a sharded checkpoint (`{ metadata: { total_size }, weight_map: { name: file } }`). */
export const WEIGHTS_INDEX_NAME = "model.safetensors.index.json";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Parses a JSON object file, with a typed error naming the file. */
export async function readJsonObject(fn: string, path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new HfCheckpointError(
      fn,
      path,
      "a readable file",
      error instanceof Error ? error.message : String(error),
      "file",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HfCheckpointError(
      fn,
      path,
      "JSON",
      error instanceof Error ? error.message : String(error),
      "file",
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HfCheckpointError(
      fn,
      path,
      "a JSON object",
      Array.isArray(value) ? "an array" : typeof value,
      "file",
    );
  return { ...value };
}

async function readShard(fn: string, path: string): Promise<ReadonlyMap<string, SafetensorsTensor>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new HfCheckpointError(
      fn,
      path,
      "a readable file",
      error instanceof Error ? error.message : String(error),
      "file",
    );
  }
  return readSafetensors(bytes).tensors;
}

/**
 * Every tensor of a checkpoint directory: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` lists (each name must be in the shard the index gives).
 */
export async function readCheckpointTensors(directory: string): Promise<Map<string, SafetensorsTensor>> {
  const fn = "readCheckpointTensors";
  const single = join(directory, WEIGHTS_NAME);
  if (await exists(single)) return new Map(await readShard(fn, single));
  const indexPath = join(directory, WEIGHTS_INDEX_NAME);
  if (!(await exists(indexPath))) {
    // Pickled torch weights are not read (unpickling runs code): convert them to safetensors first.
    const pickled = (await exists(join(directory, "pytorch_model.bin")))
      ? "only pytorch_model.bin (convert it to safetensors)"
      : "neither";
    throw new HfCheckpointError(fn, directory, `${WEIGHTS_NAME} or ${WEIGHTS_INDEX_NAME}`, pickled, "file");
  }
  const index = await readJsonObject(fn, indexPath);
  const weightMap = index.weight_map;
  if (
    typeof weightMap !== "object" ||
    weightMap === null ||
    Array.isArray(weightMap) ||
    Object.values(weightMap).some(
      (file) => typeof file !== "string" || file.includes("/") || file.includes("\\"),
    )
  )
    throw new HfCheckpointError(
      fn,
      `${indexPath}: weight_map`,
      "an object of file names",
      JSON.stringify(weightMap),
      "file",
    );
  const entries = Object.entries(weightMap as Record<string, string>);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const file of new Set(entries.map(([, shard]) => shard))) {
    for (const [name, tensor] of await readShard(fn, join(directory, file))) tensors.set(name, tensor);
  }
  for (const [name, file] of entries) {
    if (!tensors.has(name))
      throw new HfCheckpointError(fn, `${indexPath}: ${name}`, `a tensor in ${file}`, "none", "file");
  }
  return tensors;
}

function shardName(index: number, count: number): string {
  const pad = (value: number) => String(value).padStart(5, "0");
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

/**
 * Writes tensors as `model.safetensors` (metadata `format: pt`, as `save_pretrained`), or, when they
 * exceed `maxShardBytes`, as shards `model-0000i-of-0000n.safetensors` in name order plus the index.
 */
export async function writeCheckpointTensors(
  directory: string,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  maxShardBytes = Number.POSITIVE_INFINITY,
): Promise<void> {
  if (!(maxShardBytes > 0))
    throw new NnError("writeCheckpointTensors", "maxShardBytes", "a number > 0", String(maxShardBytes));
  await mkdir(directory, { recursive: true });
  const metadata = { format: "pt" };
  const shards: Map<string, SafetensorsTensor>[] = [new Map()];
  let size = 0;
  let total = 0;
  for (const name of [...tensors.keys()].sort()) {
    const tensor = tensors.get(name) as SafetensorsTensor;
    const bytes = tensor.data.byteLength;
    if (size > 0 && size + bytes > maxShardBytes) {
      shards.push(new Map());
      size = 0;
    }
    (shards[shards.length - 1] as Map<string, SafetensorsTensor>).set(name, tensor);
    size += bytes;
    total += bytes;
  }
  if (shards.length === 1) {
    await writeFile(
      join(directory, WEIGHTS_NAME),
      writeSafetensors(shards[0] as Map<string, SafetensorsTensor>, metadata),
    );
    return;
  }
  const weightMap: Record<string, string> = {};
  for (const [index, shard] of shards.entries()) {
    const file = shardName(index, shards.length);
    for (const name of shard.keys()) weightMap[name] = file;
    await writeFile(join(directory, file), writeSafetensors(shard, metadata));
  }
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  await writeFile(join(directory, WEIGHTS_INDEX_NAME), `${JSON.stringify(index, null, 2)}\n`);
}
