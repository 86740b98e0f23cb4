import { Linear } from "@xlt/nn";
import { PeftError } from "./errors.js";
import { LoraLinear } from "./lora-linear.js";
import { type AnyModule, copyModule, mapModules } from "./modules.js";
import { dequantizeNf4, quantizeNf4 } from "./nf4.js";
import { Nf4Linear } from "./nf4-linear.js";

/** Parameter values by dotted path, as `compile`'s `values` and a session's `parameters`. */
export type ValueMap = ReadonlyMap<string, Float32Array | Float64Array>;

const join = (path: string, name: string) => (path === "" ? name : `${path}.${name}`);

function value(fn: string, values: ValueMap, path: string, size: number): Float32Array | Float64Array {
  const data = values.get(path);
  if (!data) throw new PeftError(fn, `values.${path}`, `${size} values`, "nothing");
  if (data.length !== size) throw new PeftError(fn, `values.${path}`, `${size} values`, String(data.length));
  return data;
}

/** `scale · A·B` (`[in, out]`, float64) of one layer from its values. */
function delta(fn: string, layer: LoraLinear, path: string, values: ValueMap): Float64Array {
  const rows = layer.inFeatures;
  const cols = layer.outFeatures;
  const r = layer.rank;
  const a = value(fn, values, join(path, "lora_A"), rows * r);
  const b = value(fn, values, join(path, "lora_B"), r * cols);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i += 1) {
    for (let k = 0; k < r; k += 1) {
      const aik = (a[i * r + k] as number) * layer.scaling;
      if (aik === 0) continue;
      for (let j = 0; j < cols; j += 1)
        out[i * cols + j] = (out[i * cols + j] as number) + aik * (b[k * cols + j] as number);
    }
  }
  return out;
}

function shift<M extends AnyModule>(
  fn: string,
  model: M,
  values: ValueMap,
  sign: 1 | -1,
  merged: boolean,
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  const next = new Map(values);
  const transformed = mapModules(model, (module, path) => {
    if (!(module instanceof LoraLinear)) return undefined;
    if (module.merged === merged) return module;
    if (module.base instanceof Nf4Linear)
      throw new PeftError(
        fn,
        `model (module ${JSON.stringify(path)})`,
        "a LoRA layer over a float Linear",
        "an Nf4Linear base (use mergeAndUnload)",
      );
    const weightPath = join(path, "weight");
    const weight = value(fn, values, weightPath, module.inFeatures * module.outFeatures);
    const d = delta(fn, module, path, values);
    const updated =
      weight instanceof Float32Array ? new Float32Array(weight.length) : new Float64Array(weight.length);
    for (let index = 0; index < weight.length; index += 1)
      updated[index] = (weight[index] as number) + sign * (d[index] as number);
    next.set(weightPath, updated);
    return copyModule(module, { merged });
  });
  return { model: transformed, values: next };
}

/**
 * Merges every unmerged LoRA layer into its base weight: `W' = W + s·A·B` (xlt's `[in, out]` layout;
 * PEFT's `W + s·(B·A)ᵀ` on torch's `[out, in]`), the sum rounded once to the weight's dtype. The
 * returned model skips the LoRA branch of merged layers, so its outputs equal the unmerged model's
 * up to that rounding. `values` is not modified.
 */
export function mergeLora<M extends AnyModule>(
  model: M,
  values: ValueMap,
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  return shift("mergeLora", model, values, 1, true);
}

/**
 * Undoes `mergeLora`: `W = W' − s·A·B`. Restores float64 weights to within a few ulps and float32
 * weights to within one rounding of `W'` (|W − W_restored| ≤ 2⁻²³·max(|W|, |W'|)).
 */
export function unmergeLora<M extends AnyModule>(
  model: M,
  values: ValueMap,
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  return shift("unmergeLora", model, values, -1, false);
}

/**
 * Merges every LoRA layer into its base and removes the LoRA layers: the result is the base model
 * (plain `Linear`s, or `Nf4Linear`s re-quantised from `dequantise(W) + s·A·B` for QLoRA layers) with
 * merged weights and without `lora_A`/`lora_B` values. This is how adapters stack (hierarchical LoRA
 * merges each level before training the next).
 */
export function mergeAndUnload<M extends AnyModule>(
  model: M,
  values: ValueMap,
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  const fn = "mergeAndUnload";
  const next = new Map(values);
  const transformed = mapModules(model, (module, path) => {
    if (!(module instanceof LoraLinear)) return undefined;
    next.delete(join(path, "lora_A"));
    next.delete(join(path, "lora_B"));
    // The base keeps the flags its parameters had inside the LoRA layer (frozen, or a trained bias).
    const parameters = Object.fromEntries(
      Object.entries(module.parameters).filter(([name]) => name !== "lora_A" && name !== "lora_B"),
    );
    const base = copyModule(module.base, { parameters });
    if (module.merged) return base; // its weight already holds s·A·B
    const d = delta(fn, module, path, values);
    if (base instanceof Linear) {
      const weightPath = join(path, "weight");
      const weight = value(fn, values, weightPath, d.length);
      const updated =
        weight instanceof Float32Array ? new Float32Array(d.length) : new Float64Array(d.length);
      for (let index = 0; index < d.length; index += 1)
        updated[index] = (weight[index] as number) + (d[index] as number);
      next.set(weightPath, updated);
      return base;
    }
    return copyModule(requantize(base, d), { parameters });
  });
  return { model: transformed, values: next };
}

/** `Nf4Linear` whose weight is `quantise(dequantise(W) + Δ)` (`Δ` in xlt's `[in, out]` layout). */
function requantize(base: Nf4Linear, d: Float64Array): Nf4Linear {
  const [out, inFeatures] = base.weight.shape as [number, number];
  const w = dequantizeNf4(base.weight); // torch layout [out, in]
  const sum = new Float64Array(w.length);
  for (let o = 0; o < out; o += 1)
    for (let i = 0; i < inFeatures; i += 1)
      sum[o * inFeatures + i] = (w[o * inFeatures + i] as number) + (d[i * out + o] as number);
  return new Nf4Linear(
    base.base,
    quantizeNf4(Float32Array.from(sum), [out, inFeatures], {
      blockSize: base.weight.blockSize,
      doubleQuant: base.weight.doubleQuant !== undefined,
    }),
  );
}
