import type { Tensor } from "@xlt/graph";
import {
  Embedding,
  type ForwardContext,
  type Initializer,
  leaf,
  type Module,
  normal,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  Random,
  subtree,
  type TensorTree,
} from "@xlt/nn";
import { PeftError } from "./errors.js";
import { modulesToSavePaths, within } from "./lora.js";
import type { ValueMap } from "./merge.js";
import {
  type AnyModule,
  type Composite,
  copyModule,
  isComposite,
  namedModules,
  setTrainable,
} from "./modules.js";
import type { ApplyOptions } from "./patterns.js";

/** How the virtual tokens start (PEFT's `prompt_tuning_init`: `RANDOM`, `SAMPLE_VOCAB`, `TEXT`). */
export type PromptTuningInit = "random" | "sample-vocab" | "text";

/** A prompt-tuning configuration; field for field PEFT's `PromptTuningConfig` (camelCase here). */
export interface PromptTuningConfig {
  /** Virtual tokens prepended to every input (`num_virtual_tokens`). */
  readonly virtualTokens: number;
  /**
   * Default `"random"`: N(0, 1) rows, as PEFT's `torch.nn.Embedding`. `"sample-vocab"`: the word
   * embeddings of token ids drawn uniformly from the vocabulary (seeded by `seed`; PEFT draws them
   * with torch's global generator). `"text"`: the word embeddings of `initTextIds`, repeated or cut
   * to `virtualTokens` as PEFT does.
   */
  readonly init?: PromptTuningInit;
  /** `prompt_tuning_init_text` (required by `"text"`, which PEFT records with the tokenizer). */
  readonly initText?: string;
  /** The token ids of `initText` as `tokenizerNameOrPath` gives them, special tokens included (PEFT's `tokenizer(init_text)["input_ids"]`). */
  readonly initTextIds?: readonly number[];
  /** `tokenizer_name_or_path` (required by `"text"`). */
  readonly tokenizerNameOrPath?: string;
  /** Seed of the `"sample-vocab"` draw (default 0). */
  readonly seed?: number;
  /** Modules trained in full besides the prompt (PEFT adds the classifier for classification tasks). */
  readonly modulesToSave?: readonly string[];
}

export interface PromptTuningOptions extends ApplyOptions {
  /** Values of the base model's parameters by path; `"sample-vocab"` and `"text"` copy word-embedding rows from them. */
  readonly values?: ValueMap;
  /** Module path of the word-embedding `Embedding` (default: the first of {@link WORD_EMBEDDINGS} the model has). */
  readonly wordEmbeddings?: string;
}

/** Where `@xlt/nn`'s models keep their word embeddings: encoders, GPT-2, Llama (with and without heads). */
export const WORD_EMBEDDINGS: readonly string[] = [
  "encoder.embeddings.word",
  "embeddings.word",
  "transformer.wte",
  "wte",
  "model.embed_tokens",
  "embed_tokens",
];

/** The key of the prompt table in a prompt-tuned model (PEFT's `prompt_encoder`). */
export const PROMPT_ENCODER = "prompt_encoder";

/** What a model that takes virtual-token embeddings reads (`@xlt/nn`'s `EncoderInput` and `DecoderInput`). */
export interface PrefixInput {
  /** `[virtual, hidden]` or `[batch, virtual, hidden]` embeddings prepended to the word embeddings. */
  readonly prefix?: Tensor;
}

/**
 * PEFT's `PromptEmbedding`: the virtual tokens' embeddings, a `[virtual, hidden]` table at
 * `embedding.weight` (PEFT's `prompt_encoder.<adapter>.embedding.weight`).
 */
export class PromptEmbedding implements Module<null> {
  readonly parameters: ParameterTree;

  constructor(
    readonly virtualTokens: number,
    readonly hidden: number,
    init: Initializer,
    dtype: ParameterDType,
  ) {
    this.parameters = { embedding: { weight: new Parameter([virtualTokens, hidden], { init, dtype }) } };
  }

  /** The prompt `[virtual, hidden]`. */
  forward(params: TensorTree): Tensor {
    return leaf(subtree(params, "embedding"), "weight");
  }
}

/**
 * A model with a trainable prompt (Lester et al. 2021, "The Power of Scale for Parameter-Efficient
 * Prompt Tuning"): the base model's modules and parameters at their own paths plus the prompt at
 * `prompt_encoder.embedding.weight`; `forward` passes the prompt to the base model as
 * `input.prefix`, which `@xlt/nn`'s encoders and decoders prepend to the word embeddings exactly as
 * PEFT does (mask extended by ones, token types by zeros; outputs keep the virtual positions first:
 * `[batch, virtual + steps, …]`). Transformations (LoRA, BitFit, …) apply to it as to the base.
 */
export class PromptTunedModel<I extends PrefixInput, O> implements Module<I, O> {
  readonly modules: Readonly<Record<string, AnyModule>>;
  readonly parameters: ParameterTree;

  constructor(
    readonly base: Module<I, O> & Composite,
    prompt: PromptEmbedding,
  ) {
    const fn = "PromptTunedModel";
    if (PROMPT_ENCODER in base.modules || PROMPT_ENCODER in base.parameters)
      throw new PeftError(
        fn,
        "base",
        `a model without a ${JSON.stringify(PROMPT_ENCODER)}`,
        "a prompt-tuned model",
      );
    this.modules = { ...base.modules, [PROMPT_ENCODER]: prompt };
    this.parameters = { ...base.parameters, [PROMPT_ENCODER]: prompt.parameters };
  }

  /** The prompt table's module. */
  get prompt(): PromptEmbedding {
    const prompt = this.modules[PROMPT_ENCODER];
    if (!(prompt instanceof PromptEmbedding))
      throw new PeftError(
        "PromptTunedModel.prompt",
        PROMPT_ENCODER,
        "a PromptEmbedding",
        prompt?.constructor.name ?? "nothing",
      );
    return prompt;
  }

  /** Virtual tokens in front of every input. */
  get virtualTokens(): number {
    return this.prompt.virtualTokens;
  }

  forward(params: TensorTree, input: I, context: ForwardContext): O {
    if (input.prefix)
      throw new PeftError(
        "PromptTunedModel.forward",
        "input.prefix",
        "none (the model prepends its prompt)",
        `a tensor [${input.prefix.shape.join(",")}]`,
      );
    const { [PROMPT_ENCODER]: _prompt, ...modules } = this.modules;
    // The base as this model's modules have it now (a later transformation may have swapped some).
    const base = copyModule(this.base, { modules });
    const prefix = this.prompt.forward(subtree(params, PROMPT_ENCODER)); // shape: [virtual, hidden]
    return base.forward(params, { ...input, prefix }, context);
  }
}

/**
 * The token ids whose word embeddings initialise the prompt: `virtualTokens` uniform draws from
 * `[0, vocabSize)` for `"sample-vocab"`, `initTextIds` repeated and cut to `virtualTokens` for
 * `"text"` (PEFT: `ids * ceil(total / len(ids))`, then `[:total]`), none for `"random"`.
 */
export function promptInitIds(config: PromptTuningConfig, vocabSize: number): number[] | null {
  const fn = "promptInitIds";
  const count = config.virtualTokens;
  if (!(Number.isInteger(count) && count >= 1))
    throw new PeftError(fn, "virtualTokens", "a positive integer", String(count));
  const init = config.init ?? "random";
  switch (init) {
    case "random":
      return null;
    case "sample-vocab": {
      const seed = config.seed ?? 0;
      if (!Number.isInteger(seed)) throw new PeftError(fn, "seed", "an integer", String(seed));
      const random = new Random(seed);
      return Array.from({ length: count }, () => random.integer(vocabSize));
    }
    case "text": {
      const ids = config.initTextIds ?? [];
      if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0 && id < vocabSize))
        throw new PeftError(
          fn,
          "initTextIds",
          `a non-empty list of token ids in [0, ${vocabSize})`,
          JSON.stringify(config.initTextIds ?? null),
        );
      if (config.initText === undefined || config.tokenizerNameOrPath === undefined)
        throw new PeftError(
          fn,
          config.initText === undefined ? "initText" : "tokenizerNameOrPath",
          'a string with init "text" (PEFT records the text and its tokenizer)',
          "nothing",
        );
      return Array.from({ length: count }, (_, index) => ids[index % ids.length] as number);
    }
    default:
      throw new PeftError(fn, "init", '"random", "sample-vocab" or "text"', JSON.stringify(init));
  }
}

/** The word-embedding `Embedding` of `model` and its path. */
export function wordEmbeddingsOf(fn: string, model: AnyModule, path?: string): [string, Embedding] {
  const modules = new Map(namedModules(model));
  const candidates = path === undefined ? WORD_EMBEDDINGS : [path];
  for (const candidate of candidates) {
    const module = modules.get(candidate);
    if (module instanceof Embedding) return [candidate, module];
  }
  throw new PeftError(
    fn,
    "wordEmbeddings",
    path === undefined
      ? `a model with its word Embedding at one of ${WORD_EMBEDDINGS.join(", ")}`
      : "the path of an Embedding module",
    JSON.stringify(path ?? null),
  );
}

/** The prompt's initialiser: N(0, 1), or copies of the word-embedding rows of `ids` taken from `values`. */
function promptInit(
  fn: string,
  ids: readonly number[] | null,
  table: [path: string, embedding: Embedding],
  values: ValueMap | undefined,
): Initializer {
  if (ids === null) return normal(1);
  const [path, embedding] = table;
  const weights = values?.get(`${path}.weight`);
  if (!weights || weights.length !== embedding.count * embedding.dim)
    throw new PeftError(
      fn,
      `options.values.${path}.weight`,
      `the word embeddings (${embedding.count * embedding.dim} values) to copy the prompt from`,
      weights ? `${weights.length} values` : "nothing",
    );
  const rows = Float64Array.from(
    ids.flatMap((id) => Array.from(weights.subarray(id * embedding.dim, (id + 1) * embedding.dim))),
  );
  return () => Float64Array.from(rows);
}

/**
 * Prompt tuning (Lester et al. 2021) as Hugging Face PEFT's `PROMPT_TUNING`: `virtualTokens`
 * trainable embeddings prepended to every input of `model` (one of `@xlt/nn`'s encoders or decoders,
 * whose input takes a `prefix`), everything else frozen but the `modulesToSave` (and, with
 * `keepTrainable`, what already trained). Returns a {@link PromptTunedModel}: the base model's
 * parameters keep their paths, the prompt is `prompt_encoder.embedding.weight [virtual, hidden]`.
 * Its initial value is its parameter's initialiser, so `compile` (or `initialize`) sets it, with the
 * base model's values given for the rest.
 */
export function applyPromptTuning<I extends PrefixInput, O>(
  model: Module<I, O>,
  config: PromptTuningConfig,
  options: PromptTuningOptions = {},
): PromptTunedModel<I, O> {
  const fn = "applyPromptTuning";
  if (!isComposite(model))
    throw new PeftError(fn, "model", "a model with submodules in `modules`", model.constructor.name);
  const table = wordEmbeddingsOf(fn, model, options.wordEmbeddings);
  const [, embedding] = table;
  const ids = promptInitIds(config, embedding.count);
  const dtype = (embedding.parameters.weight as Parameter).dtype;
  const prompt = new PromptEmbedding(
    config.virtualTokens,
    embedding.dim,
    promptInit(fn, ids, table, options.values),
    dtype,
  );
  const saved = modulesToSavePaths(fn, model, config.modulesToSave ?? [], options);
  const tuned = new PromptTunedModel<I, O>(model, prompt);
  return setTrainable(
    tuned,
    (path, parameter) =>
      within(path, PROMPT_ENCODER) ||
      saved.some((prefix) => within(path, prefix)) ||
      (options.keepTrainable === true && parameter.trainable),
  );
}
