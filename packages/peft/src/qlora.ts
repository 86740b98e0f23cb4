import { flatten, Linear } from "@xlt/nn";
import { PeftError } from "./errors.js";
import { applyLora, type LoraConfig, modulesToSavePaths, within } from "./lora.js";
import { LoraLinear } from "./lora-linear.js";
import type { ValueMap } from "./merge.js";
import { type AnyModule, mapModules, namedModules } from "./modules.js";
import { type Nf4Options, nf4Bytes, quantizeNf4 } from "./nf4.js";
import { Nf4Linear } from "./nf4-linear.js";
import { type ModuleNaming, matchesTarget, type TargetModules } from "./patterns.js";

export interface QuantizeOptions extends Nf4Options {
  /**
   * Linear layers whose weights go to NF4 (default: every `Linear` outside `modulesToSave`, as
   * transformers' `load_in_4bit` quantises every linear layer but the ones it is told to skip).
   */
  readonly quantizeModules?: TargetModules;
  /** Modules left in full precision (they train in full under QLoRA). */
  readonly modulesToSave?: readonly string[];
}

export interface QloraConfig extends LoraConfig, QuantizeOptions {}

function quantize<M extends AnyModule>(
  fn: string,
  model: M,
  values: ValueMap,
  options: QuantizeOptions,
  naming: ModuleNaming,
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  const rename = naming.moduleName ?? ((path: string) => path);
  const next = new Map(values);
  const saved = modulesToSavePaths(fn, model, options.modulesToSave ?? [], naming);
  let quantized = 0;
  const transformed = mapModules(model, (module, path) => {
    if (!(module instanceof Linear)) return undefined;
    if (saved.some((prefix) => within(path, prefix))) return undefined;
    if (options.quantizeModules !== undefined && !matchesTarget(options.quantizeModules, rename(path)))
      return undefined;
    const weightPath = `${path}.weight`;
    const weight = values.get(weightPath);
    const size = module.inFeatures * module.outFeatures;
    if (!weight) throw new PeftError(fn, `values.${weightPath}`, `${size} values`, "nothing");
    if (weight.length !== size)
      throw new PeftError(fn, `values.${weightPath}`, `${size} values`, String(weight.length));
    // xlt's [in, out] → torch's [out, in], the layout bitsandbytes quantises.
    const torchLayout = new Float32Array(size);
    for (let i = 0; i < module.inFeatures; i += 1)
      for (let o = 0; o < module.outFeatures; o += 1)
        torchLayout[o * module.inFeatures + i] = weight[i * module.outFeatures + o] as number;
    next.delete(weightPath);
    quantized += 1;
    return new Nf4Linear(module, quantizeNf4(torchLayout, [module.outFeatures, module.inFeatures], options));
  });
  if (quantized === 0)
    throw new PeftError(
      fn,
      "quantizeModules",
      "a pattern matching at least one Linear",
      JSON.stringify(options.quantizeModules ?? "every Linear"),
    );
  return { model: transformed, values: next };
}

/**
 * Replaces `model`'s `Linear` layers by frozen `Nf4Linear`s whose weights are quantised to NF4
 * (bitsandbytes' layout: torch's `[out, in]`, block size 64, optional double quantisation). The
 * quantised weights leave the value map: they live in the model, as initializers of its graphs.
 */
export function quantizeLinears<M extends AnyModule>(
  model: M,
  values: ValueMap,
  options: QuantizeOptions = {},
  naming: ModuleNaming = {},
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  return quantize("quantizeLinears", model, values, options, naming);
}

/**
 * QLoRA (Dettmers et al. 2023): `quantizeLinears`, then LoRA over the quantised layers. Forward and
 * backward dequantise the NF4 weights inside the graph; only the LoRA set (and any biases or
 * `modulesToSave` the config names) trains.
 */
export function applyQlora<M extends AnyModule>(
  model: M,
  values: ValueMap,
  config: QloraConfig,
  naming: ModuleNaming = {},
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  const quantized = quantize("applyQlora", model, values, config, naming);
  return { model: applyLora(quantized.model, config, naming), values: quantized.values };
}

/** Every NF4 layer of a model, those under a LoRA layer included. */
export function nf4Layers(model: AnyModule): Nf4Linear[] {
  return namedModules(model).flatMap(([, module]) => {
    if (module instanceof Nf4Linear) return [module];
    if (module instanceof LoraLinear && module.base instanceof Nf4Linear) return [module.base];
    return [];
  });
}

/** Bytes of a model's frozen weights as stored in the graph, against all of them in float32. */
export interface FrozenMemory {
  /** Frozen float parameters at their dtype's size plus NF4 storage (codes, absmax statistics). */
  readonly bytes: number;
  /** The same weights, every one in float32. */
  readonly float32Bytes: number;
  /** `float32Bytes / bytes`. */
  readonly ratio: number;
}

/** The memory of the frozen weights (the session's initializers), NF4 weights counted packed. */
export function frozenMemory(model: AnyModule): FrozenMemory {
  let bytes = 0;
  let float32Bytes = 0;
  for (const [, parameter] of flatten(model.parameters)) {
    if (parameter.trainable) continue;
    const size = parameter.shape.reduce((product, dim) => product * dim, 1);
    bytes += size * (parameter.dtype === "float64" ? 8 : 4);
    float32Bytes += size * 4;
  }
  for (const layer of nf4Layers(model)) {
    bytes += nf4Bytes(layer.weight);
    float32Bytes += 4 * layer.inFeatures * layer.outFeatures;
  }
  return { bytes, float32Bytes, ratio: bytes === 0 ? 1 : float32Bytes / bytes };
}
