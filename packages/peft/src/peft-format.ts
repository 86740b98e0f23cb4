import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  flatten,
  isFloatDType,
  Linear,
  readSafetensors,
  type SafetensorsTensor,
  toFloats,
  writeSafetensors,
} from "@xlt/nn";
import { PeftError } from "./errors.js";
import {
  applyLora,
  type LoraConfig,
  loraLayers,
  modulesToSavePaths,
  resolveLoraConfig,
  within,
} from "./lora.js";
import type { ValueMap } from "./merge.js";
import { type AnyModule, namedModules } from "./modules.js";
import { type ModuleNaming, matchesTarget } from "./patterns.js";

/** PEFT's task types (`TaskType`), as written in `adapter_config.json`. */
export type PeftTaskType =
  | "SEQ_CLS"
  | "SEQ_2_SEQ_LM"
  | "CAUSAL_LM"
  | "TOKEN_CLS"
  | "QUESTION_ANS"
  | "FEATURE_EXTRACTION";

/** The file names PEFT's `save_pretrained` writes and `from_pretrained` reads. */
export const ADAPTER_CONFIG_NAME = "adapter_config.json";
export const ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors";

/** Where PEFT puts a LoRA model's modules in its state dict keys (`PeftModel.base_model.model`). */
const PREFIX = "base_model.model.";

export interface PeftSaveOptions extends ModuleNaming {
  readonly baseModelNameOrPath?: string | null;
  readonly taskType?: PeftTaskType | null;
  readonly revision?: string | null;
}

/** An adapter as PEFT stores it: the config's JSON text and the safetensors bytes. */
export interface PeftAdapterFiles {
  readonly config: string;
  readonly weights: Uint8Array;
}

/**
 * Module naming from a checkpoint mapping of parameters (`@xlt/nn`'s `HfArchitecture.mapping(model)`
 * gives `{ path, name }` per parameter): a module is named as its parameters' owner in the state
 * dict (`encoder.layers.layer0.attention.query` → `bert.encoder.layer.0.attention.self.query`).
 * Paths the mapping does not cover keep their xlt name.
 */
export function moduleNamingFrom(
  mapping: readonly { readonly path: string; readonly name: string }[],
): ModuleNaming {
  const names = new Map<string, string>();
  for (const { path, name } of mapping) names.set(owner(path), owner(name));
  return { moduleName: (path) => names.get(path) ?? path };
}

/** @internal One saved tensor: its PEFT key, its xlt parameter path and whether the layouts are transposes. */
export interface Entry {
  readonly key: string;
  readonly path: string;
  readonly transpose: boolean;
  /** xlt shape. */
  readonly shape: readonly number[];
}

const owner = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf(".")));
const leafName = (path: string) => path.slice(path.lastIndexOf(".") + 1);

/**
 * The tensors a LoRA model saves, named as PEFT's `get_peft_model_state_dict` names them (adapter
 * name removed): `lora_A.weight [r, in]` and `lora_B.weight [out, r]` of every LoRA layer, the
 * trained biases (`bias="all"`/`"lora_only"`) and every parameter of `modules_to_save`, with torch's
 * `[out, in]` layout for linear weights.
 */
function entries(model: AnyModule, config: LoraConfig, naming: ModuleNaming, fn: string): Entry[] {
  const name = naming.moduleName ?? ((path: string) => path);
  const key = (modulePath: string, suffix: string) => `${PREFIX}${name(modulePath)}.${suffix}`;
  const shapes = new Map(flatten(model.parameters).map(([path, p]) => [path, p]));
  const out: Entry[] = [];
  for (const [path, layer] of loraLayers(model)) {
    out.push(
      {
        key: key(path, "lora_A.weight"),
        path: `${path}.lora_A`,
        transpose: true,
        shape: [layer.inFeatures, layer.rank],
      },
      {
        key: key(path, "lora_B.weight"),
        path: `${path}.lora_B`,
        transpose: true,
        shape: [layer.rank, layer.outFeatures],
      },
    );
  }
  const saved = modulesToSavePaths(fn, model, config.modulesToSave ?? [], naming);
  const linears = new Set(
    namedModules(model)
      .filter(([, module]) => module instanceof Linear)
      .map(([path]) => path),
  );
  for (const [path, parameter] of shapes) {
    const isSaved = saved.some((prefix) => within(path, prefix));
    const isBias = leafName(path) === "bias" && parameter.trainable && (config.bias ?? "none") !== "none";
    if (!isSaved && !isBias) continue;
    const transpose = isSaved && leafName(path) === "weight" && linears.has(owner(path));
    out.push({ key: key(owner(path), leafName(path)), path, transpose, shape: parameter.shape });
  }
  return out;
}

/** @internal `[rows, cols]` row-major data transposed, in the same array type. */
export function transpose2d<A extends Float32Array | Float64Array>(
  data: A,
  rows: number,
  cols: number,
  make: (n: number) => A,
): A {
  const out = make(data.length);
  for (let i = 0; i < rows; i += 1)
    for (let j = 0; j < cols; j += 1) out[j * rows + i] = data[i * cols + j] as number;
  return out;
}

/** PEFT's `init_lora_weights` of an xlt init. */
const initValue = (config: LoraConfig) => ((config.init ?? "kaiming") === "gaussian" ? "gaussian" : true);

/** The `adapter_config.json` object of a LoRA config, with every field PEFT's `LoraConfig` writes. */
export function peftConfigJson(config: LoraConfig, options: PeftSaveOptions = {}): Record<string, unknown> {
  const resolved = resolveLoraConfig(config, "peftConfigJson");
  const target = resolved.targetModules;
  return {
    alpha_pattern: { ...resolved.alphaPattern },
    auto_mapping: null,
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    bias: resolved.bias,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: initValue(resolved),
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: resolved.alpha,
    lora_dropout: resolved.dropout,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: resolved.modulesToSave.length > 0 ? [...resolved.modulesToSave] : null,
    peft_type: "LORA",
    r: resolved.r,
    rank_pattern: { ...resolved.rankPattern },
    revision: options.revision ?? null,
    target_modules: typeof target === "string" ? target : [...target].sort(),
    task_type: options.taskType ?? null,
    use_dora: false,
    use_rslora: resolved.useRslora,
  };
}

/**
 * Encodes a LoRA model's adapter in Hugging Face PEFT's format: `adapter_config.json` and
 * `adapter_model.safetensors` (metadata `format: pt`), loadable by `PeftModel.from_pretrained` on a
 * base model whose module names `options.moduleName` gives.
 */
export function toPeftAdapter(
  model: AnyModule,
  values: ValueMap,
  config: LoraConfig,
  options: PeftSaveOptions = {},
): PeftAdapterFiles {
  const fn = "toPeftAdapter";
  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries(model, config, options, fn)) {
    const data = values.get(entry.path);
    const size = entry.shape.reduce((p, d) => p * d, 1);
    if (!data) throw new PeftError(fn, `values.${entry.path}`, `${size} values`, "nothing");
    if (data.length !== size)
      throw new PeftError(fn, `values.${entry.path}`, `${size} values`, String(data.length));
    const [rows = 1, cols = 1] = entry.shape;
    const shape = entry.transpose ? [cols, rows] : [...entry.shape];
    if (data instanceof Float32Array) {
      const out = entry.transpose
        ? transpose2d(data, rows, cols, (n) => new Float32Array(n))
        : Float32Array.from(data);
      tensors.set(entry.key, { dtype: "F32", shape, data: out });
    } else {
      const out = entry.transpose
        ? transpose2d(data, rows, cols, (n) => new Float64Array(n))
        : Float64Array.from(data);
      tensors.set(entry.key, { dtype: "F64", shape, data: out });
    }
  }
  return {
    config: `${JSON.stringify(peftConfigJson(config, options), null, 2)}\n`,
    weights: writeSafetensors(tensors, { format: "pt" }),
  };
}

/** What an `adapter_config.json` holds, in xlt's terms. */
export interface PeftConfigRead {
  readonly config: LoraConfig;
  readonly baseModelNameOrPath: string | null;
  readonly taskType: string | null;
}

/** @internal A config field checked by `check`; absent and `null` give `undefined`. */
export function field<T>(
  fn: string,
  json: Record<string, unknown>,
  name: string,
  check: (value: unknown) => value is T,
  expected: string,
): T | undefined {
  const value = json[name];
  if (value === undefined || value === null) return undefined;
  if (!check(value))
    throw new PeftError(fn, `${ADAPTER_CONFIG_NAME}: ${name}`, expected, JSON.stringify(value));
  return value;
}

/** @internal */
export const isNumber = (value: unknown): value is number => typeof value === "number";
/** @internal */
export const isString = (value: unknown): value is string => typeof value === "string";
/** @internal */
export const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
/** @internal */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isNumberRecord = (value: unknown): value is Record<string, number> =>
  isObject(value) && Object.values(value).every(isNumber);

/**
 * Reads a PEFT `adapter_config.json` of a LoRA adapter. Features xlt does not implement (DoRA,
 * `layers_to_transform`) are refused rather than ignored. `fan_in_fan_out` (PEFT sets it for
 * GPT-2's Conv1D layers) only says how the *base* weight is laid out; the LoRA tensors are
 * `[r, in]`/`[out, r]` either way and xlt's linear layers are always `[in, out]`, so it is accepted.
 */
export function readPeftConfig(text: string): PeftConfigRead {
  const fn = "readPeftConfig";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PeftError(fn, ADAPTER_CONFIG_NAME, "JSON", JSON.stringify(text.slice(0, 40)));
  }
  if (!isObject(parsed))
    throw new PeftError(fn, ADAPTER_CONFIG_NAME, "a JSON object", JSON.stringify(parsed));
  const json = parsed;
  if (json.peft_type !== "LORA")
    throw new PeftError(fn, `${ADAPTER_CONFIG_NAME}: peft_type`, '"LORA"', JSON.stringify(json.peft_type));
  if (json.use_dora !== undefined && json.use_dora !== false)
    throw new PeftError(
      fn,
      `${ADAPTER_CONFIG_NAME}: use_dora`,
      "false (not supported by @xlt/peft)",
      JSON.stringify(json.use_dora),
    );
  if (json.layers_to_transform !== undefined && json.layers_to_transform !== null)
    throw new PeftError(
      fn,
      `${ADAPTER_CONFIG_NAME}: layers_to_transform`,
      "null (not supported by @xlt/peft)",
      JSON.stringify(json.layers_to_transform),
    );
  const target = json.target_modules;
  if (!(isString(target) || isStrings(target)))
    throw new PeftError(
      fn,
      `${ADAPTER_CONFIG_NAME}: target_modules`,
      "a string or a list of strings",
      JSON.stringify(target),
    );
  const bias = field(
    fn,
    json,
    "bias",
    (v): v is "none" | "all" | "lora_only" => v === "none" || v === "all" || v === "lora_only",
    '"none", "all" or "lora_only"',
  );
  const r = field(fn, json, "r", isNumber, "a number");
  const alpha = field(fn, json, "lora_alpha", isNumber, "a number");
  const dropout = field(fn, json, "lora_dropout", isNumber, "a number");
  const useRslora = field(fn, json, "use_rslora", (v): v is boolean => typeof v === "boolean", "a boolean");
  const modulesToSave = field(fn, json, "modules_to_save", isStrings, "a list of strings");
  const rankPattern = field(fn, json, "rank_pattern", isNumberRecord, "an object of numbers");
  const alphaPattern = field(fn, json, "alpha_pattern", isNumberRecord, "an object of numbers");
  const config: LoraConfig = {
    targetModules: target,
    ...(r !== undefined ? { r } : {}),
    ...(alpha !== undefined ? { alpha } : {}),
    ...(dropout !== undefined ? { dropout } : {}),
    ...(bias !== undefined ? { bias } : {}),
    ...(useRslora !== undefined ? { useRslora } : {}),
    init: json.init_lora_weights === "gaussian" ? "gaussian" : "kaiming",
    ...(modulesToSave !== undefined ? { modulesToSave } : {}),
    ...(rankPattern !== undefined ? { rankPattern } : {}),
    ...(alphaPattern !== undefined ? { alphaPattern } : {}),
  };
  resolveLoraConfig(config, fn);
  return {
    config,
    baseModelNameOrPath: field(fn, json, "base_model_name_or_path", isString, "a string") ?? null,
    taskType: field(fn, json, "task_type", isString, "a string") ?? null,
  };
}

/**
 * The parameter values (xlt paths and layouts) an adapter's safetensors holds for a LoRA model built
 * with its config, converted to the parameters' dtypes (F32, F64, F16 and BF16 files are read). Every tensor must belong to the model with the right shape, and every tensor the
 * model saves must be present: nothing is dropped or guessed.
 */
export function readPeftWeights(
  model: AnyModule,
  config: LoraConfig,
  weights: Uint8Array,
  naming: ModuleNaming = {},
): Map<string, Float32Array | Float64Array> {
  const fn = "readPeftWeights";
  return readAdapterTensors(
    fn,
    weights,
    entries(model, config, naming, fn),
    model,
    "a tensor of the LoRA model",
  );
}

/**
 * @internal An adapter's safetensors read into xlt paths and layouts: each tensor must be one of
 * `expected` (else "`what`" was expected) with its shape, is widened exactly and stored in its
 * parameter's dtype (transposed back where the layouts differ), and every expected tensor must be there.
 */
export function readAdapterTensors(
  fn: string,
  weights: Uint8Array,
  expectedEntries: readonly Entry[],
  model: { readonly parameters: AnyModule["parameters"] },
  what: string,
): Map<string, Float32Array | Float64Array> {
  const file = readSafetensors(weights);
  const expected = new Map(expectedEntries.map((entry) => [entry.key, entry]));
  const dtypes = new Map(flatten(model.parameters).map(([path, parameter]) => [path, parameter.dtype]));
  const values = new Map<string, Float32Array | Float64Array>();
  for (const [key, tensor] of file.tensors) {
    const entry = expected.get(key);
    const at = `${ADAPTER_WEIGHTS_NAME}: ${key}`;
    if (!entry) throw new PeftError(fn, at, what, "an unknown key");
    const [rows = 1, cols = 1] = entry.shape;
    const shape = entry.transpose ? [cols, rows] : [...entry.shape];
    if (tensor.shape.join(",") !== shape.join(","))
      throw new PeftError(fn, at, `shape [${shape.join(", ")}]`, `[${tensor.shape.join(", ")}]`);
    if (!isFloatDType(tensor.dtype)) throw new PeftError(fn, at, "F32, F64, F16 or BF16", tensor.dtype);
    // Exactly widened, then stored in the parameter's dtype (F32 into float32 is unchanged).
    const wide = toFloats(tensor);
    const data = dtypes.get(entry.path) === "float64" ? wide : Float32Array.from(wide);
    const back = entry.transpose
      ? data instanceof Float32Array
        ? transpose2d(data, cols, rows, (n) => new Float32Array(n))
        : transpose2d(data, cols, rows, (n) => new Float64Array(n))
      : data;
    values.set(entry.path, back);
  }
  for (const [key, entry] of expected) {
    if (!values.has(entry.path))
      throw new PeftError(fn, `${ADAPTER_WEIGHTS_NAME}: ${key}`, "a tensor", "nothing");
  }
  return values;
}

/** Writes `adapter_config.json` and `adapter_model.safetensors` into `directory` (created if needed). */
export async function savePeftAdapter(
  directory: string,
  model: AnyModule,
  values: ValueMap,
  config: LoraConfig,
  options: PeftSaveOptions = {},
): Promise<void> {
  const files = toPeftAdapter(model, values, config, options);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, ADAPTER_CONFIG_NAME), files.config);
  await writeFile(join(directory, ADAPTER_WEIGHTS_NAME), files.weights);
}

/**
 * The config with `modulesToSave` cut to the names that match a module of `base`: PEFT adds
 * `["classifier", "score"]` for classification tasks and ignores the name the model lacks.
 */
export function presentModulesToSave<C extends { readonly modulesToSave?: readonly string[] }>(
  base: AnyModule,
  config: C,
  naming: ModuleNaming = {},
): C {
  const rename = naming.moduleName ?? ((path: string) => path);
  const paths = namedModules(base)
    .map(([path]) => path)
    .filter((path) => path !== "");
  const present = (config.modulesToSave ?? []).filter((name) =>
    paths.some((path) => matchesTarget([name], rename(path))),
  );
  return { ...config, modulesToSave: present };
}

/**
 * Reads a PEFT LoRA adapter from `directory` and applies it to `base`: the LoRA model (frozen base,
 * trainable adapter), the adapter's values in xlt paths and layouts (merge them over the base model's
 * values), and the config (its `modulesToSave` cut to the modules `base` has, as PEFT does).
 */
export async function loadPeftAdapter<M extends AnyModule>(
  directory: string,
  base: M,
  naming: ModuleNaming = {},
): Promise<{ model: M; values: Map<string, Float32Array | Float64Array> } & PeftConfigRead> {
  const read = readPeftConfig(await readFile(join(directory, ADAPTER_CONFIG_NAME), "utf8"));
  const config = presentModulesToSave(base, read.config, naming);
  const model = applyLora(base, config, naming);
  const values = readPeftWeights(
    model,
    config,
    new Uint8Array(await readFile(join(directory, ADAPTER_WEIGHTS_NAME))),
    naming,
  );
  return { ...read, config, model, values };
}
