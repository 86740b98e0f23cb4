import type { EncoderInput, EncoderModelOutput, HfEncoderModel, Module } from "@xlt/nn";
import {
  applyBitFit,
  applyBottleneckAdapters,
  applyEmbeddingOnly,
  applyEncoderAdapters,
  applyLora,
  applyPromptTuning,
  applyQlora,
  copyModule,
  PROMPT_ENCODER,
  type PromptEmbedding,
  type PromptTunedModel,
  SEQ_BN,
  setTrainable,
} from "@xlt/peft";
import { CompareError } from "./errors.js";

/** The adaptation methods compared, full fine-tuning (the baseline of the ASO tests) first. */
export const METHODS = [
  "full",
  "lora",
  "qlora",
  "houlsby",
  "pfeiffer",
  "bitfit",
  "prompt",
  "embedding",
] as const;
export type Method = (typeof METHODS)[number];

/** Masked-LM adaptation to Faroese text (`lm`) and Faroese UPOS tagging (`upos`). */
export const TASKS = ["lm", "upos"] as const;
export type Task = (typeof TASKS)[number];

/** How a method is set up: its name in the tables, its AdamW learning rate and what trains. */
export interface MethodSetting {
  readonly label: string;
  readonly lr: number;
  readonly trains: string;
}

/** LoRA's rank and alpha (scaling alpha / r = 2), on the attention query and value projections. */
export const LORA = { r: 8, alpha: 16, targetModules: ["query", "value"] } as const;
/** Houlsby adapters: hidden / 8 bottleneck after the attention and feed-forward output projections. */
export const ADAPTER = { reductionFactor: 8, activation: "gelu", targetModules: ["output"] } as const;
/** Pfeiffer adapters: AdapterHub's `SeqBnConfig` (ReLU, after the feed-forward) with Houlsby's hidden / 8 bottleneck. */
export const PFEIFFER = { ...SEQ_BN, reductionFactor: 8 } as const;
/**
 * Prompt tuning: 8 virtual tokens initialised from the word embeddings of seeded vocabulary samples
 * (PEFT's `SAMPLE_VOCAB`; N(0, 1) rows would dwarf BERT's N(0, 0.02)-scale embeddings).
 */
export const PROMPT = { virtualTokens: 8, init: "sample-vocab" } as const;

/**
 * Each method's learning rate (peak of a linear warmup-decay schedule), not tuned per method: full
 * fine-tuning moves every weight and takes 5e-4; the methods that train a small, partly freshly
 * initialised set take ten times that (BitFit twenty, prompt tuning sixty, as their papers' rates
 * stand to full fine-tuning's).
 */
export const METHOD_SETTINGS: Readonly<Record<Method, MethodSetting>> = {
  full: { label: "full fine-tuning", lr: 5e-4, trains: "every parameter" },
  lora: {
    label: "LoRA",
    lr: 5e-3,
    trains: `rank-${LORA.r} A and B on query and value (alpha ${LORA.alpha})`,
  },
  qlora: {
    label: "QLoRA (NF4)",
    lr: 5e-3,
    trains: "LoRA as above over a base whose linear layers are 4-bit NF4 (block 64, double quantisation)",
  },
  houlsby: {
    label: "Houlsby adapters",
    lr: 5e-3,
    trains: `bottleneck adapters (hidden/${ADAPTER.reductionFactor}, GELU) after both sublayer projections, and the layer norms`,
  },
  pfeiffer: {
    label: "Pfeiffer adapters",
    lr: 5e-3,
    trains: `one bottleneck adapter (hidden/${PFEIFFER.reductionFactor}, ReLU) per layer after the feed-forward (AdapterHub seq_bn)`,
  },
  bitfit: { label: "BitFit", lr: 1e-2, trains: "every bias" },
  prompt: {
    label: "prompt tuning",
    lr: 3e-2,
    trains: `${PROMPT.virtualTokens} virtual-token embeddings prepended to the input (initialised from vocabulary samples)`,
  },
  embedding: {
    label: "embedding-only",
    lr: 5e-3,
    trains: "the word-embedding table (tied to the masked-LM decoder)",
  },
};

/** The classification head of the tagger, trained in full by every method (PEFT's `modules_to_save`). */
const HEAD = ["classifier"];

/** A model adapted for a method, and what the loss functions need to run it. */
export interface Adapted {
  /** The model to compile: its parameters flag what trains. */
  readonly model: HfEncoderModel | PromptTunedModel<EncoderInput, EncoderModelOutput>;
  /**
   * The encoder model as the adapted one holds it (its modules, LoRA layers and adapters included),
   * without the prompt: the loss functions call its encoder and head.
   */
  readonly encoderModel: HfEncoderModel;
  /** The prompt of prompt tuning (its table at `prompt_encoder.…`), or `null`. */
  readonly prompt: PromptEmbedding | null;
  /** Checkpoint values of the parameters still in the tree (QLoRA's quantised weights moved into the model). */
  readonly values: Map<string, Float32Array | Float64Array>;
}

/** An adapted model without a prompt. */
export const plain = (
  model: HfEncoderModel,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
): Adapted => ({
  model,
  encoderModel: model,
  prompt: null,
  values: new Map(values),
});

/**
 * `model` (a masked-LM model for `lm`, a token classifier for `upos`, with the checkpoint's `values`)
 * adapted for `method`: the returned model flags what trains, and the returned values drop what moved
 * out of the parameter tree (QLoRA's quantised weights, which the model now holds as NF4). New
 * parameters (LoRA matrices, adapters, the prompt, the classifier) are not in the values: `compile`
 * initialises them from the run's seed, which also draws the prompt's vocabulary samples.
 */
export function applyMethod(
  method: Method,
  task: Task,
  model: HfEncoderModel,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
  seed: number,
): Adapted {
  const head = task === "upos" ? HEAD : [];
  switch (method) {
    case "full":
      return plain(model, values);
    case "lora":
      return plain(applyLora(model, { ...LORA, modulesToSave: head }), values);
    case "qlora": {
      const quantized = applyQlora(model, values, { ...LORA, modulesToSave: head, doubleQuant: true });
      return plain(quantized.model, quantized.values);
    }
    case "houlsby":
      return plain(
        applyBottleneckAdapters(model, {
          ...ADAPTER,
          trainModules: ["attentionNorm", "outputNorm"],
          modulesToSave: head,
        }),
        values,
      );
    case "pfeiffer":
      return plain(applyEncoderAdapters(model, { ...PFEIFFER, modulesToSave: head }), values);
    case "bitfit":
      return plain(applyBitFit(model, { modulesToSave: head }), values);
    case "prompt": {
      const base: Module<EncoderInput, EncoderModelOutput> & HfEncoderModel = model;
      const tuned = applyPromptTuning(base, { ...PROMPT, seed, modulesToSave: head }, { values });
      const { [PROMPT_ENCODER]: _prompt, ...modules } = tuned.modules;
      return {
        model: tuned,
        encoderModel: copyModule(model, { modules }),
        prompt: tuned.prompt,
        values: new Map(values),
      };
    }
    case "embedding": {
      // Freeze everything but the head, then let the word-embedding table train as well.
      const headOnly = setTrainable(model, (path) => head.some((name) => path.includes(`.${name}.`)));
      return plain(applyEmbeddingOnly(headOnly, { modules: ["word"], keepTrainable: true }), values);
    }
  }
}

/** Parses a comma-separated list of methods; it must name `full`, the baseline of the comparison. */
export function parseMethods(text: string): Method[] {
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const methods: Method[] = [];
  for (const name of names) {
    const method = METHODS.find((candidate) => candidate === name);
    if (!method)
      throw new CompareError(
        "parseMethods",
        "--methods",
        `methods among ${METHODS.join(", ")}`,
        JSON.stringify(name),
      );
    if (!methods.includes(method)) methods.push(method);
  }
  if (!methods.includes("full"))
    throw new CompareError(
      "parseMethods",
      "--methods",
      "a list that includes full (the baseline)",
      JSON.stringify(text),
    );
  return METHODS.filter((method) => methods.includes(method));
}
