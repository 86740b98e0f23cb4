import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ARCHITECTURES } from "./architectures.js";
import { NnError } from "./errors.js";
import { type FloatDType, fromFloats, isFloatDType, toFloats } from "./float-formats.js";
import {
  type HfArchitecture,
  HfCheckpointError,
  type HfModel,
  type HfTensorMapping,
  readCheckpointTensors,
  readJsonObject,
  writeCheckpointTensors,
} from "./hf-checkpoint.js";
import { flatten, initialize, type Parameter } from "./parameters.js";
import type { SafetensorsTensor } from "./safetensors.js";

/** A model with its values in Hugging Face terms: what `savePretrained` writes. */
export interface HfCheckpoint<M extends HfModel = HfModel> {
  readonly architecture: HfArchitecture<M>;
  readonly model: M;
  /** Every parameter's value by dotted path: what `@xlt/runtime`'s `compile({ values })` takes. */
  readonly values: ReadonlyMap<string, Float32Array | Float64Array>;
  /** `config.json` fields to keep (tokenizer ids, …); `architecture.toConfig(model)` is written over them. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** The dtype of each Hugging Face key in the source checkpoint: saving writes the same. */
  readonly dtypes?: ReadonlyMap<string, FloatDType>;
  /** Tensors of the source the model does not use (its `ignored` keys): written back unchanged. */
  readonly extra?: ReadonlyMap<string, SafetensorsTensor>;
}

/** A loaded checkpoint, with what was missing or unexpected (and allowed). */
export interface LoadedCheckpoint<M extends HfModel = HfModel> extends HfCheckpoint<M> {
  readonly config: Readonly<Record<string, unknown>>;
  readonly dtypes: ReadonlyMap<string, FloatDType>;
  readonly extra: ReadonlyMap<string, SafetensorsTensor>;
  /** Keys the model expects that the checkpoint lacks (allowed by `allowMissing`): freshly initialised. */
  readonly missing: readonly string[];
  /** Keys of the checkpoint the model has no place for (allowed by `allowUnexpected`), sorted: dropped. */
  readonly unexpected: readonly string[];
  /** Keys whose shape differs from the model's (allowed by `allowMismatched`): freshly initialised. */
  readonly mismatched: readonly string[];
}

export interface FromPretrainedOptions {
  /** Fields merged over `config.json` before the model is built, e.g. a new head: `{ architectures: ["BertForTokenClassification"], num_labels: 9 }`. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Architectures to choose from by `model_type` (default {@link ARCHITECTURES}). */
  readonly architectures?: readonly HfArchitecture[];
  /** Expected keys that may be absent (a new head: `[/^classifier\./]`); they keep a fresh initialisation. */
  readonly allowMissing?: readonly RegExp[];
  /** Keys of the checkpoint that may go unused (another head's: `[/^cls\./]`). */
  readonly allowUnexpected?: readonly RegExp[];
  /**
   * Keys whose shape may differ from the model's (a classifier with another number of labels:
   * `[/^classifier\./]`, HF's `ignore_mismatched_sizes`); they keep a fresh initialisation.
   */
  readonly allowMismatched?: readonly RegExp[];
  /** Seed of the initialisers of missing parameters (default 0). */
  readonly seed?: number;
}

export interface SavePretrainedOptions {
  /** dtype of the tensors whose source dtype is unknown (default F32). */
  readonly dtype?: FloatDType;
  /** Split the weights into shards of at most this many bytes (with `model.safetensors.index.json`). */
  readonly maxShardBytes?: number;
}

/** The architecture of `config.model_type` among `architectures`; a typed error listing the supported ones. */
export function architectureFor<M extends HfModel>(
  config: Readonly<Record<string, unknown>>,
  architectures: readonly HfArchitecture<M>[],
): HfArchitecture<M> {
  const type = config.model_type;
  const found = architectures.find((architecture) => architecture.modelTypes.some((t) => t === type));
  if (found) return found;
  const supported = architectures.flatMap((architecture) => architecture.modelTypes);
  throw new HfCheckpointError(
    "architectureFor",
    "config.model_type",
    `one of ${supported.join(", ")}`,
    JSON.stringify(type),
    "unsupported-model-type",
    { supported },
  );
}

function checkMapping<M extends HfModel>(
  fn: string,
  model: M,
  mapping: readonly HfTensorMapping[],
): Map<string, Parameter> {
  const parameters = new Map(flatten(model.parameters));
  const seen = new Set<string>();
  for (const { path, name, transpose } of mapping) {
    const parameter = parameters.get(path);
    if (!parameter) throw new NnError(fn, `mapping ${name}`, "a parameter path of the model", path);
    if (seen.has(path)) throw new NnError(fn, `mapping ${name}`, "each path once", `${path} again`);
    if (transpose && parameter.shape.length !== 2)
      throw new NnError(fn, `mapping ${name}`, "a matrix to transpose", `[${parameter.shape.join(",")}]`);
    seen.add(path);
  }
  const unmapped = [...parameters.keys()].filter((path) => !seen.has(path));
  if (unmapped.length > 0)
    throw new NnError(fn, "mapping", "every parameter path", `none for ${unmapped.join(", ")}`);
  return parameters;
}

/** `[rows, columns]` row-major → `[columns, rows]`. */
function transposed(data: ArrayLike<number>, rows: number, columns: number): Float64Array {
  const out = new Float64Array(rows * columns);
  for (let r = 0; r < rows; r += 1)
    for (let c = 0; c < columns; c += 1) out[c * rows + r] = data[r * columns + c] as number;
  return out;
}

const hfShape = (parameter: Parameter, transpose: boolean | undefined) =>
  transpose ? [parameter.shape[1] as number, parameter.shape[0] as number] : [...parameter.shape];

/** `pattern` without the `g` and `y` flags, whose `test` would remember the last match. */
const stateless = (pattern: RegExp): RegExp =>
  pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")) : pattern;

interface Renaming {
  /** The checkpoint's name for a model-side name. */
  readonly toFile: (name: string) => string;
  /** The model-side name for a checkpoint name. */
  readonly toModel: (name: string) => string;
}

/** HF's prefix rule: add or strip the base-model prefix on the model's names to match the checkpoint's. */
function renaming(
  prefix: string | undefined,
  expected: readonly string[],
  loaded: Iterable<string>,
): Renaming {
  const same = (name: string) => name;
  if (prefix === undefined) return { toFile: same, toModel: same };
  const start = `${prefix}.`;
  const add = (name: string) => `${start}${name}`;
  const strip = (name: string) => (name.startsWith(start) ? name.slice(start.length) : name);
  const has = [...loaded].some((name) => name.startsWith(start));
  const expects = expected.some((name) => name.startsWith(start));
  if (expects && !has) return { toFile: strip, toModel: add };
  if (has && !expects) return { toFile: add, toModel: strip };
  return { toFile: same, toModel: same };
}

/**
 * Loads a Hugging Face checkpoint directory: `config.json` picks the architecture (`model_type`) and
 * head (`architectures[0]`), `model.safetensors` (or the shards of `model.safetensors.index.json`)
 * gives the values, converted from F32/F16/BF16/F64 to each parameter's dtype and transposed where
 * torch's layout differs. Keys the model expects but the file lacks, and keys of the file the model
 * has no place for, are an {@link HfCheckpointError} unless `allowMissing`/`allowUnexpected` match them.
 */
export async function fromPretrained<M extends HfModel>(
  directory: string,
  options: FromPretrainedOptions & { readonly architecture: HfArchitecture<M> },
): Promise<LoadedCheckpoint<M>>;
export async function fromPretrained(
  directory: string,
  options?: FromPretrainedOptions,
): Promise<LoadedCheckpoint>;
export async function fromPretrained(
  directory: string,
  options: FromPretrainedOptions & { readonly architecture?: HfArchitecture } = {},
): Promise<LoadedCheckpoint> {
  const fn = "fromPretrained";
  const config = { ...(await readJsonObject(fn, join(directory, "config.json"))), ...(options.config ?? {}) };
  const architecture = options.architecture
    ? architectureFor(config, [options.architecture])
    : architectureFor(config, options.architectures ?? ARCHITECTURES);
  const model = architecture.fromConfig(config);
  const mapping = architecture.mapping(model);
  const parameters = checkMapping(fn, model, mapping);
  const tensors = await readCheckpointTensors(directory);
  const tied = architecture.tied?.(model) ?? [];
  const ignored = architecture.ignored?.(model) ?? [];
  // Names on the checkpoint's side for the model's names.
  const { toFile, toModel } = renaming(
    architecture.prefix,
    mapping.map((entry) => entry.name),
    tensors.keys(),
  );
  const fromFile = new Map([...mapping, ...tied].map((entry) => [toFile(entry.name), entry.name]));
  const values = new Map<string, Float32Array | Float64Array>();
  const dtypes = new Map<string, FloatDType>();
  const missing: string[] = [];
  const mismatched: string[] = [];
  const matches = (patterns: readonly RegExp[] | undefined, name: string) =>
    (patterns ?? []).some((pattern) => stateless(pattern).test(name));
  for (const { path, name, transpose } of mapping) {
    const tensor = tensors.get(toFile(name));
    const parameter = parameters.get(path) as Parameter;
    if (!tensor) {
      missing.push(name);
      continue;
    }
    const shape = hfShape(parameter, transpose);
    if (tensor.shape.length !== shape.length || tensor.shape.some((dim, index) => dim !== shape[index])) {
      if (matches(options.allowMismatched, name)) {
        mismatched.push(name);
        continue;
      }
      throw new HfCheckpointError(
        fn,
        toFile(name),
        `shape [${shape.join(",")}]`,
        `[${tensor.shape.join(",")}]`,
        "shape",
      );
    }
    if (!isFloatDType(tensor.dtype))
      throw new HfCheckpointError(fn, toFile(name), "a F32, F64, F16 or BF16 tensor", tensor.dtype, "dtype");
    const floats = toFloats(tensor);
    const data = transpose ? transposed(floats, shape[0] as number, shape[1] as number) : floats;
    values.set(path, parameter.dtype === "float32" ? Float32Array.from(data) : data);
    dtypes.set(name, tensor.dtype);
  }
  for (const { name } of tied) {
    const tensor = tensors.get(toFile(name));
    if (tensor && isFloatDType(tensor.dtype)) dtypes.set(name, tensor.dtype);
  }
  const extra = new Map<string, SafetensorsTensor>();
  const unexpected: string[] = [];
  for (const [name, tensor] of [...tensors].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (fromFile.has(name)) continue;
    const own = toModel(name);
    if (ignored.some((pattern) => stateless(pattern).test(own))) extra.set(own, tensor);
    else unexpected.push(name);
  }
  const badMissing = missing.filter((name) => !matches(options.allowMissing, name));
  const badUnexpected = unexpected.filter((name) => !matches(options.allowUnexpected, name));
  if (badMissing.length > 0 || badUnexpected.length > 0)
    throw new HfCheckpointError(
      fn,
      directory,
      "every key the model expects and no other (or allowMissing/allowUnexpected)",
      `missing [${badMissing.join(", ")}], unexpected [${badUnexpected.join(", ")}]`,
      "keys",
      { missing: badMissing, unexpected: badUnexpected },
    );
  if (missing.length > 0 || mismatched.length > 0) {
    const fresh = initialize(model.parameters, options.seed ?? 0);
    for (const { path } of mapping)
      if (!values.has(path)) values.set(path, fresh.get(path) as Float32Array | Float64Array);
  }
  return { architecture, model, values, config, dtypes, extra, missing, unexpected, mismatched };
}

/**
 * Writes `checkpoint` in the Hugging Face layout: `config.json` (the kept config with
 * `architecture.toConfig(model)` over it) and `model.safetensors` (or shards with an index), every
 * parameter under its Hugging Face name and layout, in its source dtype (else `options.dtype`).
 */
export async function savePretrained<M extends HfModel>(
  directory: string,
  checkpoint: HfCheckpoint<M>,
  options: SavePretrainedOptions = {},
): Promise<void> {
  const fn = "savePretrained";
  const { architecture, model, values } = checkpoint;
  const mapping = architecture.mapping(model);
  const parameters = checkMapping(fn, model, mapping);
  const fallback = options.dtype ?? "F32";
  const tensors = new Map<string, SafetensorsTensor>(checkpoint.extra ?? []);
  const tensorOf = ({ path, name, transpose }: HfTensorMapping): SafetensorsTensor => {
    const parameter = parameters.get(path) as Parameter;
    const value = values.get(path);
    const size = parameter.shape.reduce((product, dim) => product * dim, 1);
    if (!value || value.length !== size)
      throw new NnError(fn, `values.${path}`, `${size} values`, value ? String(value.length) : "nothing");
    const shape = hfShape(parameter, transpose);
    const data = transpose
      ? transposed(value, parameter.shape[0] as number, parameter.shape[1] as number)
      : value;
    return fromFloats(data, checkpoint.dtypes?.get(name) ?? fallback, shape);
  };
  for (const entry of mapping) tensors.set(entry.name, tensorOf(entry));
  for (const entry of architecture.tied?.(model) ?? [])
    if (checkpoint.dtypes?.has(entry.name)) tensors.set(entry.name, tensorOf(entry));
  const config = { ...(checkpoint.config ?? {}), ...architecture.toConfig(model) };
  await writeCheckpointTensors(directory, tensors, options.maxShardBytes);
  await writeFile(join(directory, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
}
