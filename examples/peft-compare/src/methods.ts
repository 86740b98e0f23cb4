import type { HfEncoderModel } from "@xlt/nn";
import {
  applyBitFit,
  applyBottleneckAdapters,
  applyEmbeddingOnly,
  applyLora,
  applyQlora,
  setTrainable,
} from "@xlt/peft";
import { CompareError } from "./errors.js";

/** The adaptation methods compared, full fine-tuning (the baseline of the ASO tests) first. */
export const METHODS = ["full", "lora", "qlora", "houlsby", "bitfit", "embedding"] as const;
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

/**
 * Each method's learning rate (peak of a linear warmup-decay schedule). Full fine-tuning moves every
 * weight and takes the smallest; methods that train few, freshly initialised parameters take larger
 * ones, as their papers do (LoRA 5e-4 to 2e-3, adapters 1e-3, BitFit 1e-3 to 1e-2).
 */
export const METHOD_SETTINGS: Readonly<Record<Method, MethodSetting>> = {
  full: { label: "full fine-tuning", lr: 5e-4, trains: "every parameter" },
  lora: {
    label: "LoRA",
    lr: 2e-3,
    trains: `rank-${LORA.r} A and B on query and value (alpha ${LORA.alpha})`,
  },
  qlora: {
    label: "QLoRA (NF4)",
    lr: 2e-3,
    trains: "LoRA as above over a base whose linear layers are 4-bit NF4 (block 64, double quantisation)",
  },
  houlsby: {
    label: "Houlsby adapters",
    lr: 2e-3,
    trains: `bottleneck adapters (hidden/${ADAPTER.reductionFactor}, GELU) after both sublayer projections, and the layer norms`,
  },
  bitfit: { label: "BitFit", lr: 5e-3, trains: "every bias" },
  embedding: {
    label: "embedding-only",
    lr: 2e-3,
    trains: "the word-embedding table (tied to the masked-LM decoder)",
  },
};

/** The classification head of the tagger, trained in full by every method (PEFT's `modules_to_save`). */
const HEAD = ["classifier"];

/**
 * `model` (a masked-LM model for `lm`, a token classifier for `upos`, with the checkpoint's `values`)
 * transformed for `method`: the returned model flags what trains, and the returned values drop what
 * moved out of the parameter tree (QLoRA's quantised weights, which the model now holds as NF4).
 * New parameters (LoRA matrices, adapters, the classifier) are not in the values: `compile`
 * initialises them from the run's seed.
 */
export function applyMethod(
  method: Method,
  task: Task,
  model: HfEncoderModel,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
): { model: HfEncoderModel; values: Map<string, Float32Array | Float64Array> } {
  const head = task === "upos" ? HEAD : [];
  const same = new Map(values);
  switch (method) {
    case "full":
      return { model, values: same };
    case "lora":
      return { model: applyLora(model, { ...LORA, modulesToSave: head }), values: same };
    case "qlora":
      return applyQlora(model, values, { ...LORA, modulesToSave: head, doubleQuant: true });
    case "houlsby":
      return {
        model: applyBottleneckAdapters(model, {
          ...ADAPTER,
          trainModules: ["attentionNorm", "outputNorm"],
          modulesToSave: head,
        }),
        values: same,
      };
    case "bitfit":
      return { model: applyBitFit(model, { modulesToSave: head }), values: same };
    case "embedding": {
      // Freeze everything but the head, then let the word-embedding table train as well.
      const headOnly = setTrainable(model, (path) => head.some((name) => path.includes(`.${name}.`)));
      return {
        model: applyEmbeddingOnly(headOnly, { modules: ["word"], keepTrainable: true }),
        values: same,
      };
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
