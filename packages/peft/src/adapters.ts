import { add, gelu, matmul, relu, type Tensor, tanh } from "@xlt/graph";
import {
  type ForwardContext,
  Linear,
  leaf,
  type Module,
  normal,
  Parameter,
  type ParameterTree,
  subtree,
  type TensorTree,
  zeros,
} from "@xlt/nn";
import { PeftError } from "./errors.js";
import { modulesToSavePaths, within } from "./lora.js";
import { type AnyModule, mapModules, setTrainable } from "./modules.js";
import { Nf4Linear } from "./nf4-linear.js";
import { type ApplyOptions, checkPattern, matchesTarget, type TargetModules } from "./patterns.js";

/** Non-linearities of the bottleneck. */
export type AdapterActivation = "relu" | "gelu" | "tanh";

const ACTIVATIONS: Readonly<Record<AdapterActivation, (x: Tensor) => Tensor>> = { relu, gelu, tanh };

/** The layers a bottleneck adapter can follow: a linear projection, or another adapter (stacking). */
export type AdapterBase = Linear | Nf4Linear | BottleneckAdapter;

const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * A bottleneck adapter after a sublayer's output projection (Houlsby et al. 2019, "Parameter-
 * Efficient Transfer Learning for NLP"): `z = base(x)`, then `z + up(act(down(z)))` with
 * `down: [out, out/reduction]`, `up: [out/reduction, out]`. `up` starts at zero, so the adapted
 * layer starts as the base layer exactly; `down` starts N(0, 0.01²) (Houlsby's near-identity
 * initialisation). Parameters `<name>_down.{weight,bias}` and `<name>_up.{weight,bias}` sit beside
 * the base layer's, so adapters with different names stack (a task adapter over a language adapter,
 * as MAD-X's stacking: the second adapter reads the first one's output).
 */
export class BottleneckAdapter implements Module {
  readonly parameters: ParameterTree;
  readonly bottleneck: number;

  constructor(
    readonly base: AdapterBase,
    readonly name: string,
    readonly reductionFactor: number,
    readonly activation: AdapterActivation = "relu",
  ) {
    const fn = "BottleneckAdapter";
    if (!NAME.test(name)) throw new PeftError(fn, "name", "an alphanumeric identifier", JSON.stringify(name));
    if (`${name}_down` in base.parameters)
      throw new PeftError(fn, "name", "a name the base layer's adapters do not use", JSON.stringify(name));
    if (!(reductionFactor > 0))
      throw new PeftError(fn, "reductionFactor", "a number > 0", String(reductionFactor));
    if (!Object.hasOwn(ACTIVATIONS, activation))
      throw new PeftError(fn, "activation", '"relu", "gelu" or "tanh"', JSON.stringify(activation));
    const out = base.outFeatures;
    this.bottleneck = Math.max(1, Math.floor(out / reductionFactor));
    const dtype = floatType(base);
    const m = this.bottleneck;
    this.parameters = {
      ...base.parameters,
      [`${name}_down`]: {
        weight: new Parameter([out, m], { init: normal(0.01), dtype }),
        bias: new Parameter([m], { init: zeros, decay: false, dtype }),
      },
      [`${name}_up`]: {
        weight: new Parameter([m, out], { init: zeros, dtype }),
        bias: new Parameter([out], { init: zeros, decay: false, dtype }),
      },
    };
  }

  get inFeatures(): number {
    return this.base.inFeatures;
  }

  get outFeatures(): number {
    return this.base.outFeatures;
  }

  forward(params: TensorTree, x: Tensor, context: ForwardContext = { training: false }): Tensor {
    const z = this.base.forward(params, x, context); // shape: [..., out]
    const down = subtree(params, `${this.name}_down`);
    const up = subtree(params, `${this.name}_up`);
    const h = ACTIVATIONS[this.activation](add(matmul(z, leaf(down, "weight")), leaf(down, "bias"))); // shape: [..., m]
    return add(z, add(matmul(h, leaf(up, "weight")), leaf(up, "bias")));
  }
}

/** The dtype of the linear layer at the bottom of a stack of adapters. */
function floatType(base: AdapterBase): "float32" | "float64" {
  if (base instanceof BottleneckAdapter) return floatType(base.base);
  const linear = base instanceof Nf4Linear ? base.base : base;
  return (linear.parameters.weight as Parameter).dtype;
}

export interface AdapterConfig {
  /** The sublayer output projections to follow (Houlsby: attention output and feed-forward output). */
  readonly targetModules: TargetModules;
  /** The adapter's name (default `"adapter"`); stacked adapters need different names. */
  readonly name?: string;
  /** Hidden size / bottleneck size (default 16). */
  readonly reductionFactor?: number;
  /** Default `"relu"`. */
  readonly activation?: AdapterActivation;
  /** Layer norms that train with the adapters (Houlsby train them), matched as `targetModules`. */
  readonly trainModules?: TargetModules;
  /** Modules trained in full (a new classifier head). */
  readonly modulesToSave?: readonly string[];
}

/**
 * Inserts a bottleneck adapter after every targeted projection and freezes everything else (earlier
 * adapters included): only this adapter, the `trainModules` and the `modulesToSave` train.
 */
export function applyBottleneckAdapters<M extends AnyModule>(
  model: M,
  config: AdapterConfig,
  naming: ApplyOptions = {},
): M {
  const fn = "applyBottleneckAdapters";
  const rename = naming.moduleName ?? ((path: string) => path);
  const name = config.name ?? "adapter";
  if (typeof config.targetModules === "string") checkPattern(fn, "targetModules", config.targetModules);
  if (typeof config.trainModules === "string") checkPattern(fn, "trainModules", config.trainModules);
  const saved = modulesToSavePaths(fn, model, config.modulesToSave ?? [], naming);
  const wrapped: string[] = [];
  const transformed = mapModules(model, (module, path) => {
    if (!matchesTarget(config.targetModules, rename(path)) || saved.some((prefix) => within(path, prefix)))
      return undefined;
    if (!(module instanceof Linear || module instanceof Nf4Linear || module instanceof BottleneckAdapter)) {
      throw new PeftError(
        fn,
        `targetModules (module ${JSON.stringify(path)})`,
        "only Linear, Nf4Linear or BottleneckAdapter modules",
        module.constructor.name,
      );
    }
    wrapped.push(path);
    return new BottleneckAdapter(module, name, config.reductionFactor ?? 16, config.activation ?? "relu");
  });
  if (wrapped.length === 0)
    throw new PeftError(
      fn,
      "targetModules",
      "a pattern matching at least one module",
      JSON.stringify(config.targetModules),
    );
  const train = config.trainModules;
  return setTrainable(transformed, (path, parameter) => {
    if (naming.keepTrainable && parameter.trainable) return true;
    if (saved.some((prefix) => within(path, prefix))) return true;
    const owner = path.slice(0, Math.max(0, path.lastIndexOf(".")));
    const module = owner.slice(0, Math.max(0, owner.lastIndexOf(".")));
    const group = owner.slice(owner.lastIndexOf(".") + 1);
    if (wrapped.includes(module) && (group === `${name}_down` || group === `${name}_up`)) return true;
    return train !== undefined && matchesTarget(train, rename(owner));
  });
}
