import { flatten } from "@xlt/nn";
import type { AnyModule } from "./modules.js";
import { nf4Layers } from "./qlora.js";

/** What kind of parameter trains, for `trainableParameters`' breakdown. */
export type ParameterKind = "lora" | "bias" | "other";

/** Parameter counts of a model after a PEFT method. */
export interface TrainableReport {
  /** Elements that train. */
  readonly trainable: number;
  /** All elements, frozen float parameters and NF4-quantised weights included. */
  readonly total: number;
  /** `trainable / total`. */
  readonly share: number;
  /** Elements of NF4-quantised weights (frozen, outside the parameter tree). */
  readonly quantized: number;
  /** Trainable elements by kind: LoRA matrices, biases, everything else (embeddings, saved modules). */
  readonly byKind: Readonly<Record<ParameterKind, number>>;
}

/** Counts trainable and total parameters (as PEFT's `print_trainable_parameters`), per kind. */
export function trainableParameters(model: AnyModule): TrainableReport {
  let trainable = 0;
  let total = 0;
  const byKind: Record<ParameterKind, number> = { lora: 0, bias: 0, other: 0 };
  for (const [path, parameter] of flatten(model.parameters)) {
    const size = parameter.shape.reduce((product, dim) => product * dim, 1);
    total += size;
    if (!parameter.trainable) continue;
    trainable += size;
    const name = path.slice(path.lastIndexOf(".") + 1);
    byKind[name === "lora_A" || name === "lora_B" ? "lora" : name === "bias" ? "bias" : "other"] += size;
  }
  let quantized = 0;
  for (const layer of nf4Layers(model)) quantized += layer.inFeatures * layer.outFeatures;
  total += quantized;
  return { trainable, total, share: total === 0 ? 0 : trainable / total, quantized, byKind };
}
