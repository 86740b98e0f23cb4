import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { flatten, Linear, type Module, type SafetensorsTensor, writeSafetensors } from "@xlt/nn";
import { PeftError } from "./errors.js";
import { modulesToSavePaths, within } from "./lora.js";
import type { ValueMap } from "./merge.js";
import { namedModules } from "./modules.js";
import type { ApplyOptions, ModuleNaming } from "./patterns.js";
import {
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  type Entry,
  field,
  isNumber,
  isObject,
  isString,
  isStrings,
  type PeftAdapterFiles,
  type PeftSaveOptions,
  presentModulesToSave,
  readAdapterTensors,
  transpose2d,
} from "./peft-format.js";
import {
  applyPromptTuning,
  PROMPT_ENCODER,
  type PrefixInput,
  type PromptTunedModel,
  type PromptTuningConfig,
  type PromptTuningInit,
} from "./prompt-tuning.js";

/** The key PEFT's `get_peft_model_state_dict` gives the prompt table `[virtual, token_dim]`. */
export const PROMPT_EMBEDDINGS_KEY = "prompt_embeddings";

/** Where PEFT's prompt-learning models keep the base model's modules (`PeftModel.base_model`). */
const PREFIX = "base_model.";

/** Any prompt-tuned model. */
export type AnyPromptTunedModel = PromptTunedModel<never, unknown>;

export interface PromptTuningSaveOptions extends PeftSaveOptions {
  /** `num_attention_heads` (default: the base model's `config.heads`, else null). */
  readonly numAttentionHeads?: number | null;
  /** `num_layers` (default: the base model's `config.layers`, else null). */
  readonly numLayers?: number | null;
}

const INIT_NAMES: Readonly<Record<PromptTuningInit, string>> = {
  random: "RANDOM",
  "sample-vocab": "SAMPLE_VOCAB",
  text: "TEXT",
};

/** A number field of the base model's `config` (`heads`, `layers`), or null. */
function baseConfigNumber(model: AnyPromptTunedModel, key: string): number | null {
  const config: unknown = Reflect.get(model.base, "config");
  if (typeof config !== "object" || config === null) return null;
  const value: unknown = Reflect.get(config, key);
  return typeof value === "number" ? value : null;
}

/**
 * The `adapter_config.json` object of a prompt-tuned model, with every field PEFT's
 * `PromptTuningConfig` writes (`peft_type: "PROMPT_TUNING"`, `num_virtual_tokens`, `token_dim`,
 * `num_transformer_submodules: 1`, `prompt_tuning_init`, …).
 */
export function promptTuningConfigJson(
  model: AnyPromptTunedModel,
  config: PromptTuningConfig,
  options: PromptTuningSaveOptions = {},
): Record<string, unknown> {
  const fn = "promptTuningConfigJson";
  if (config.virtualTokens !== model.virtualTokens)
    throw new PeftError(
      fn,
      "config.virtualTokens",
      `${model.virtualTokens} (the model's)`,
      String(config.virtualTokens),
    );
  const init = config.init ?? "random";
  if (!Object.hasOwn(INIT_NAMES, init))
    throw new PeftError(fn, "config.init", '"random", "sample-vocab" or "text"', JSON.stringify(init));
  const modulesToSave = config.modulesToSave ?? [];
  return {
    auto_mapping: null,
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    inference_mode: true,
    modules_to_save: modulesToSave.length > 0 ? [...modulesToSave] : null,
    num_attention_heads: options.numAttentionHeads ?? baseConfigNumber(model, "heads"),
    num_layers: options.numLayers ?? baseConfigNumber(model, "layers"),
    num_transformer_submodules: 1,
    num_virtual_tokens: model.virtualTokens,
    peft_type: "PROMPT_TUNING",
    prompt_tuning_init: INIT_NAMES[init],
    prompt_tuning_init_text: config.initText ?? null,
    revision: options.revision ?? null,
    task_type: options.taskType ?? null,
    token_dim: model.prompt.hidden,
    tokenizer_kwargs: null,
    tokenizer_name_or_path: config.tokenizerNameOrPath ?? null,
  };
}

/**
 * The tensors a prompt-tuned model saves, as PEFT's `get_peft_model_state_dict` names them:
 * `prompt_embeddings [virtual, token_dim]` and every parameter of `modules_to_save` at
 * `base_model.<module>.<name>` (torch's `[out, in]` for linear weights).
 */
function entries(
  model: AnyPromptTunedModel,
  modulesToSave: readonly string[],
  naming: ModuleNaming,
  fn: string,
): Entry[] {
  const name = naming.moduleName ?? ((path: string) => path);
  const prompt = model.prompt;
  const out: Entry[] = [
    {
      key: PROMPT_EMBEDDINGS_KEY,
      path: `${PROMPT_ENCODER}.embedding.weight`,
      shape: [prompt.virtualTokens, prompt.hidden],
      transpose: false,
    },
  ];
  const saved = modulesToSavePaths(fn, model, modulesToSave, naming);
  const linears = new Set(
    namedModules(model)
      .filter(([, module]) => module instanceof Linear)
      .map(([path]) => path),
  );
  for (const [path, parameter] of flatten(model.parameters)) {
    if (!saved.some((prefix) => within(path, prefix))) continue;
    const at = path.lastIndexOf(".");
    const owner = path.slice(0, Math.max(0, at));
    const leaf = path.slice(at + 1);
    out.push({
      key: `${PREFIX}${name(owner)}.${leaf}`,
      path,
      shape: parameter.shape,
      transpose: leaf === "weight" && linears.has(owner),
    });
  }
  return out;
}

/**
 * Encodes a prompt-tuned model's adapter in Hugging Face PEFT's format: `adapter_config.json` and
 * `adapter_model.safetensors` (metadata `format: pt`) with `prompt_embeddings` and any
 * `modules_to_save`, loadable by `PeftModel.from_pretrained` on the base model.
 */
export function toPromptTuningAdapter(
  model: AnyPromptTunedModel,
  values: ValueMap,
  config: PromptTuningConfig,
  options: PromptTuningSaveOptions = {},
): PeftAdapterFiles {
  const fn = "toPromptTuningAdapter";
  const json = promptTuningConfigJson(model, config, options);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries(model, config.modulesToSave ?? [], options, fn)) {
    const data = values.get(entry.path);
    const size = entry.shape.reduce((p, d) => p * d, 1);
    if (!data || data.length !== size)
      throw new PeftError(
        fn,
        `values.${entry.path}`,
        `${size} values`,
        data ? String(data.length) : "nothing",
      );
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
    config: `${JSON.stringify(json, null, 2)}\n`,
    weights: writeSafetensors(tensors, { format: "pt" }),
  };
}

/** What a prompt-tuning `adapter_config.json` holds, in xlt's terms. */
export interface PromptTuningConfigRead {
  /** The config; `init: "text"` comes without `initTextIds` (PEFT tokenizes the text itself). */
  readonly config: PromptTuningConfig;
  /** `token_dim`, the base model's hidden size. */
  readonly tokenDim: number | null;
  readonly baseModelNameOrPath: string | null;
  readonly taskType: string | null;
}

/** PEFT's prompt-learning methods other than prompt tuning, refused by name. */
const OTHER_PROMPT_METHODS: Readonly<Record<string, string>> = {
  PREFIX_TUNING: "prefix tuning",
  P_TUNING: "P-tuning",
  MULTITASK_PROMPT_TUNING: "multitask prompt tuning",
};

const INIT_OF: Readonly<Record<string, PromptTuningInit>> = {
  RANDOM: "random",
  SAMPLE_VOCAB: "sample-vocab",
  TEXT: "text",
};

/**
 * Reads a PEFT `adapter_config.json` of a prompt-tuning adapter. Prefix tuning, P-tuning and
 * multitask prompt tuning (other prompt-learning methods, with other tensors) and encoder-decoder
 * prompts (`num_transformer_submodules: 2`) are refused.
 */
export function readPromptTuningConfig(text: string): PromptTuningConfigRead {
  const fn = "readPromptTuningConfig";
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PeftError(fn, ADAPTER_CONFIG_NAME, "JSON", JSON.stringify(text.slice(0, 40)));
  }
  if (!isObject(json)) throw new PeftError(fn, ADAPTER_CONFIG_NAME, "a JSON object", JSON.stringify(json));
  const at = (name: string) => `${ADAPTER_CONFIG_NAME}: ${name}`;
  if (json.peft_type !== "PROMPT_TUNING") {
    const other = typeof json.peft_type === "string" ? OTHER_PROMPT_METHODS[json.peft_type] : undefined;
    throw new PeftError(
      fn,
      at("peft_type"),
      `"PROMPT_TUNING"${other ? ` (${other} is not supported by @xlt/peft)` : ""}`,
      JSON.stringify(json.peft_type),
    );
  }
  const virtualTokens = json.num_virtual_tokens;
  if (!(isNumber(virtualTokens) && Number.isInteger(virtualTokens) && virtualTokens >= 1))
    throw new PeftError(fn, at("num_virtual_tokens"), "a positive integer", JSON.stringify(virtualTokens));
  const submodules = json.num_transformer_submodules;
  if (submodules !== undefined && submodules !== null && submodules !== 1)
    throw new PeftError(
      fn,
      at("num_transformer_submodules"),
      "1 (prompts for encoder-decoder models are not supported by @xlt/peft)",
      JSON.stringify(submodules),
    );
  const initName = field(fn, json, "prompt_tuning_init", isString, "a string") ?? "RANDOM";
  const init = INIT_OF[initName];
  if (init === undefined)
    throw new PeftError(
      fn,
      at("prompt_tuning_init"),
      '"RANDOM", "SAMPLE_VOCAB" or "TEXT"',
      JSON.stringify(initName),
    );
  const tokenDim = field(fn, json, "token_dim", isNumber, "a number") ?? null;
  const initText = field(fn, json, "prompt_tuning_init_text", isString, "a string");
  const tokenizer = field(fn, json, "tokenizer_name_or_path", isString, "a string");
  const modulesToSave = field(fn, json, "modules_to_save", isStrings, "a list of strings");
  return {
    config: {
      virtualTokens,
      init,
      ...(initText !== undefined ? { initText } : {}),
      ...(tokenizer !== undefined ? { tokenizerNameOrPath: tokenizer } : {}),
      ...(modulesToSave !== undefined ? { modulesToSave } : {}),
    },
    tokenDim,
    baseModelNameOrPath: field(fn, json, "base_model_name_or_path", isString, "a string") ?? null,
    taskType: field(fn, json, "task_type", isString, "a string") ?? null,
  };
}

/**
 * The parameter values (xlt paths and layouts) a prompt-tuning adapter's safetensors holds for
 * `model`, converted to the parameters' dtypes (F32, F64, F16 and BF16 files are read). Every
 * tensor must belong to the model with the right shape, and every tensor the model saves must be
 * there.
 */
export function readPromptTuningWeights(
  model: AnyPromptTunedModel,
  config: PromptTuningConfig,
  weights: Uint8Array,
  naming: ModuleNaming = {},
): Map<string, Float32Array | Float64Array> {
  const fn = "readPromptTuningWeights";
  return readAdapterTensors(
    fn,
    weights,
    entries(model, config.modulesToSave ?? [], naming, fn),
    model,
    "a tensor of the prompt-tuned model",
  );
}

/** Writes `adapter_config.json` and `adapter_model.safetensors` of a prompt-tuned model into `directory`. */
export async function savePromptTuningAdapter(
  directory: string,
  model: AnyPromptTunedModel,
  values: ValueMap,
  config: PromptTuningConfig,
  options: PromptTuningSaveOptions = {},
): Promise<void> {
  const files = toPromptTuningAdapter(model, values, config, options);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, ADAPTER_CONFIG_NAME), files.config);
  await writeFile(join(directory, ADAPTER_WEIGHTS_NAME), files.weights);
}

/**
 * Reads a PEFT prompt-tuning adapter from `directory` and applies it to `base`: the prompt-tuned
 * model, the adapter's values in xlt paths (the prompt and any `modules_to_save`; merge them over the
 * base model's values) and the config (its `modulesToSave` cut to the modules `base` has, as PEFT
 * does).
 */
export async function loadPromptTuningAdapter<I extends PrefixInput, O>(
  directory: string,
  base: Module<I, O>,
  options: ApplyOptions & { readonly wordEmbeddings?: string } = {},
): Promise<
  { model: PromptTunedModel<I, O>; values: Map<string, Float32Array | Float64Array> } & PromptTuningConfigRead
> {
  const fn = "loadPromptTuningAdapter";
  const read = readPromptTuningConfig(await readFile(join(directory, ADAPTER_CONFIG_NAME), "utf8"));
  const config = presentModulesToSave(base, read.config, options);
  // The file gives the prompt's values: the model is built with a random prompt and no text ids.
  const model = applyPromptTuning(base, { ...config, init: "random" }, options);
  if (read.tokenDim !== null && read.tokenDim !== model.prompt.hidden)
    throw new PeftError(
      fn,
      `${ADAPTER_CONFIG_NAME}: token_dim`,
      `${model.prompt.hidden} (the model's hidden size)`,
      String(read.tokenDim),
    );
  const values = readPromptTuningWeights(
    model,
    config,
    new Uint8Array(await readFile(join(directory, ADAPTER_WEIGHTS_NAME))),
    options,
  );
  return { ...read, config, model, values };
}
