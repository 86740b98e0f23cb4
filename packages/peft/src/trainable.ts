import { flatten } from "@xlt/nn";
import { BottleneckAdapter } from "./adapters.js";
import { Bottleneck } from "./bottleneck.js";
import { NiceCouplingBlock } from "./invertible-adapters.js";
import { type AnyModule, namedModules } from "./modules.js";
import { nf4Layers } from "./qlora.js";

/** What kind of parameter trains, for `trainableParameters`' breakdown. */
export type ParameterKind = "lora" | "adapter" | "bias" | "other";

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
  /** Trainable elements by kind: LoRA matrices, bottleneck adapters, other biases, everything else. */
  readonly byKind: Readonly<Record<ParameterKind, number>>;
}

/** Counts trainable and total parameters (as PEFT's `print_trainable_parameters`), per kind. */
export function trainableParameters(model: AnyModule): TrainableReport {
  let trainable = 0;
  let total = 0;
  const byKind: Record<ParameterKind, number> = { lora: 0, adapter: 0, bias: 0, other: 0 };
  const adapters = adapterPrefixes(model);
  for (const [path, parameter] of flatten(model.parameters)) {
    const size = parameter.shape.reduce((product, dim) => product * dim, 1);
    total += size;
    if (!parameter.trainable) continue;
    trainable += size;
    const name = path.slice(path.lastIndexOf(".") + 1);
    const kind: ParameterKind = adapters.some((prefix) => path.startsWith(prefix))
      ? "adapter"
      : name === "lora_A" || name === "lora_B"
        ? "lora"
        : name === "bias"
          ? "bias"
          : "other";
    byKind[kind] += size;
  }
  let quantized = 0;
  for (const layer of nf4Layers(model)) quantized += layer.inFeatures * layer.outFeatures;
  total += quantized;
  return { trainable, total, share: total === 0 ? 0 : trainable / total, quantized, byKind };
}

/**
 * `<module>.<name>_down.` and `<module>.<name>_up.` of every bottleneck adapter, stacked ones
 * included, and the paths of the encoder adapters' blocks and invertible adapters.
 */
function adapterPrefixes(model: AnyModule): string[] {
  const out: string[] = [];
  for (const [path, module] of namedModules(model)) {
    if (module instanceof Bottleneck || module instanceof NiceCouplingBlock) out.push(`${path}.`);
    for (let layer: unknown = module; layer instanceof BottleneckAdapter; layer = layer.base) {
      const at = path === "" ? "" : `${path}.`;
      out.push(`${at}${layer.name}_down.`, `${at}${layer.name}_up.`);
    }
  }
  return out;
}
