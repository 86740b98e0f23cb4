import { EncoderModel, flatten, initialize } from "@xlt/nn";
import {
  applyBitFit,
  applyBottleneckAdapters,
  applyEmbeddingOnly,
  applyLora,
  applyQlora,
  type LoraConfig,
  setTrainable,
  trainableParameters,
} from "@xlt/peft";

/** The fine-tuning methods measured; every PEFT method also trains the new classifier head. */
export const METHODS = [
  "full",
  "lora-qv",
  "lora-all",
  "qlora-qv",
  "bitfit",
  "houlsby",
  "embedding-only",
] as const;
export type Method = (typeof METHODS)[number];

/** The shapes of the BERT-style token classifier (post-LN, absolute positions, token types). */
export interface EncoderShape {
  readonly vocab: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly ffn: number;
  readonly positions: number;
  readonly tags: number;
  readonly dropout: number;
}

/** LoRA as the benchmark configures it (both sides): rank 8, alpha 16, dropout 0.1 on the LoRA input. */
export const LORA = { r: 8, alpha: 16, dropout: 0.1 } as const;

/** The modules each LoRA variant wraps: query/value (PEFT's BERT default) or every linear layer. */
export const LORA_TARGETS: Readonly<Record<"lora-qv" | "lora-all", readonly string[]>> = {
  "lora-qv": ["query", "value"],
  "lora-all": ["query", "key", "value", "output", "intermediate"],
};

/** `@xlt/nn`'s BERT with a token-classification head (as Hugging Face's `BertForTokenClassification`). */
export function encoderModel(shape: EncoderShape): EncoderModel {
  return new EncoderModel({
    family: "bert",
    head: "token-classification",
    labels: shape.tags,
    vocabSize: shape.vocab,
    hidden: shape.hidden,
    layers: shape.layers,
    heads: shape.heads,
    intermediate: shape.ffn,
    maxPositions: shape.positions,
    typeVocabSize: 2,
    hiddenDropout: shape.dropout,
    attentionDropout: shape.dropout,
  });
}

/** A model prepared for one method, its starting values and its trainable-parameter count. */
export interface Prepared {
  readonly model: EncoderModel;
  readonly values: Map<string, Float32Array | Float64Array>;
  readonly trainable: number;
  readonly total: number;
}

/**
 * The encoder prepared for `method` with seeded values: `full` trains everything; LoRA (r 8, alpha
 * 16) on query/value or on every linear layer; QLoRA (the same LoRA over NF4 weights of every
 * linear layer but the classifier); BitFit (every bias); Houlsby adapters (after the attention- and
 * feed-forward-output projections, reduction factor 16, layer norms trained); embedding-only (the
 * embedding tables). The PEFT methods train the classifier too (`modulesToSave`).
 */
export function prepareMethod(method: Method, shape: EncoderShape, seed = 0): Prepared {
  const base = encoderModel(shape);
  const baseValues = initialize(base.parameters, seed);
  const lora = (targets: readonly string[]): LoraConfig => ({
    targetModules: targets,
    ...LORA,
    modulesToSave: ["classifier"],
  });
  let model: EncoderModel;
  let values = baseValues;
  switch (method) {
    case "full":
      model = base;
      break;
    case "lora-qv":
    case "lora-all":
      model = applyLora(base, lora(LORA_TARGETS[method]));
      break;
    case "qlora-qv": {
      const quantized = applyQlora(base, baseValues, lora(LORA_TARGETS["lora-qv"]));
      model = quantized.model;
      values = quantized.values;
      break;
    }
    case "bitfit":
      model = applyBitFit(base, { modulesToSave: ["classifier"] });
      break;
    case "houlsby":
      model = applyBottleneckAdapters(base, {
        targetModules: ["output"],
        reductionFactor: 16,
        trainModules: ["attentionNorm", "outputNorm"],
        modulesToSave: ["classifier"],
      });
      break;
    case "embedding-only":
      model = setTrainable(
        applyEmbeddingOnly(base),
        (path, parameter) => parameter.trainable || path.startsWith("head.classifier."),
      );
      break;
  }
  // Parameters the method added (LoRA matrices, adapters) get their own seeded initial values.
  const added = initialize(model.parameters, seed + 1);
  for (const [path] of flatten(model.parameters)) {
    const given = values.get(path) ?? added.get(path);
    if (given) values.set(path, given);
  }
  const report = trainableParameters(model);
  return { model, values, trainable: report.trainable, total: report.total };
}
