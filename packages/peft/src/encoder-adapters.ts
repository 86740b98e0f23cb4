import { add, type Tensor } from "@xlt/graph";
import {
  type Dropout,
  EncoderLayer,
  type EncoderState,
  type ForwardContext,
  type Module,
  Parameter,
  type ParameterTree,
  parametersOf,
  siteSeed,
  subtree,
  type TensorTree,
} from "@xlt/nn";
import {
  type AdapterInit,
  type AdapterNonLinearity,
  Bottleneck,
  floorDivide,
  NON_LINEARITIES,
} from "./bottleneck.js";
import { PeftError } from "./errors.js";
import { modulesToSavePaths, within } from "./lora.js";
import { type AnyModule, copyModule, mapModules, setTrainable } from "./modules.js";
import { type ApplyOptions, checkPattern, matchesTarget, type TargetModules } from "./patterns.js";

/** Where in an encoder layer an adapter sits: after attention (`mh_adapter`) or the feed-forward (`output_adapter`). */
export type AdapterLocation = "mhAdapter" | "outputAdapter";

/**
 * How an adapter meets the transformer's own residual and LayerNorm (AdapterHub's `BnConfig`):
 * `originalLnBefore` adds the sublayer input and applies the sublayer's LayerNorm before the adapter;
 * `originalLnAfter` applies them after it (after the last adapter of a stack); `residualBeforeLn`
 * picks the adapter's residual: `true` the sublayer output (before the original residual and
 * LayerNorm), `"post_add"` the sum with the sublayer input (only with `originalLnBefore`), `false`
 * the adapter's input (after that LayerNorm).
 */
export interface AdapterArrangement {
  readonly originalLnBefore: boolean;
  readonly originalLnAfter: boolean;
  readonly residualBeforeLn: boolean | "post_add";
}

/** What the adapters at one location read: the sublayer's output (after its dropout), its input, its LayerNorm. */
export interface AdapterSite {
  readonly location: AdapterLocation;
  /** `[batch, steps, hidden]`: the sublayer's output, or the previous adapter's of a stack. */
  readonly hidden: Tensor;
  /** `[batch, steps, hidden]`: the sublayer's input (the transformer's residual). */
  readonly input: Tensor;
  /** The sublayer's LayerNorm (with its parameters bound). */
  readonly norm: (x: Tensor) => Tensor;
}

/**
 * One adapter's blocks in one encoder layer, keyed by location, with AdapterHub's arrangement.
 * `forward` is AdapterHub's `Adapter.pre_forward` then the block and its residual; a location without
 * a block passes `hidden` through (a stack skips the adapter there).
 */
export class LayerAdapter implements Module<AdapterSite> {
  constructor(
    readonly modules: Readonly<Partial<Record<AdapterLocation, Bottleneck>>>,
    readonly arrangement: AdapterArrangement,
  ) {}

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, site: AdapterSite, context: ForwardContext): Tensor {
    const block = this.modules[site.location];
    if (!block) return site.hidden;
    const { originalLnBefore, residualBeforeLn } = this.arrangement;
    let x = site.hidden; // shape: [batch, steps, hidden]
    let residual = x;
    if (originalLnBefore) {
      const sum = add(x, site.input);
      if (residualBeforeLn === "post_add") residual = sum;
      x = site.norm(sum);
    }
    if (residualBeforeLn === false) residual = x;
    return add(block.forward(subtree(params, site.location), x, context), residual);
  }
}

/**
 * The adapters of one layer under their names, applied in the order they were added (AdapterHub's
 * `Stack`: a task adapter reads a language adapter's output). `forward` is AdapterHub's
 * `bottleneck_layer_forward`: the stack's adapters that have a block at the location, then the last
 * one's `post_forward` (the original residual and LayerNorm if `originalLnAfter`); with none there,
 * the plain `norm(hidden + input)`.
 */
export class AdapterStack implements Module<AdapterSite> {
  constructor(readonly modules: Readonly<Record<string, LayerAdapter>>) {}

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  forward(params: TensorTree, site: AdapterSite, context: ForwardContext): Tensor {
    const active = Object.entries(this.modules).filter(([, adapter]) => adapter.modules[site.location]);
    const last = active[active.length - 1];
    if (!last) return site.norm(add(site.hidden, site.input));
    let x = site.hidden;
    for (const [name, adapter] of active)
      x = adapter.forward(subtree(params, name), { ...site, hidden: x }, context);
    return last[1].arrangement.originalLnAfter ? site.norm(add(x, site.input)) : x;
  }
}

/** An encoder layer's submodules with its adapters beside them. */
export type AdapterEncoderLayerModules = EncoderLayer["modules"] & { readonly adapters: AdapterStack };

/**
 * `@xlt/nn`'s post-LN `EncoderLayer` with bottleneck adapters after its sublayers, as AdapterHub's
 * BERT places them (`BertSelfOutput` and `BertOutput`: after the projection and its dropout, with
 * the sublayer input and the sublayer's LayerNorm). It reuses the layer's submodules (their
 * parameter paths stay) and adds `adapters.<name>.<location>.{down,up}.{weight,bias}`.
 */
export class AdapterEncoderLayer implements Module<EncoderState> {
  constructor(
    readonly modules: AdapterEncoderLayerModules,
    readonly activation: (x: Tensor) => Tensor,
    readonly attentionDropout: Dropout,
    readonly outputDropout: Dropout,
  ) {}

  /** `layer` with an empty stack of adapters. */
  static wrap(layer: EncoderLayer): AdapterEncoderLayer {
    const modules = { ...layer.modules, adapters: new AdapterStack({}) };
    return new AdapterEncoderLayer(modules, layer.activation, layer.attentionDropout, layer.outputDropout);
  }

  get parameters(): ParameterTree {
    return parametersOf(this.modules);
  }

  /** A copy with `adapter` on top of the stack. */
  withAdapter(name: string, adapter: LayerAdapter): AdapterEncoderLayer {
    const adapters = new AdapterStack({ ...this.modules.adapters.modules, [name]: adapter });
    return copyModule(this, { modules: { ...this.modules, adapters } });
  }

  forward(params: TensorTree, { hidden, mask }: EncoderState, context: ForwardContext): Tensor {
    const { attention, attentionNorm, intermediate, output, outputNorm, adapters } = this.modules;
    const adapt = (
      location: AdapterLocation,
      sublayer: Tensor,
      input: Tensor,
      normName: string,
      norm: Module,
    ) =>
      adapters.forward(
        subtree(params, "adapters"),
        {
          location,
          hidden: sublayer,
          input,
          norm: (x) => norm.forward(subtree(params, normName), x, context),
        },
        context,
      );
    const state = mask ? { hidden, mask } : { hidden };
    const attended = this.attentionDropout.forward(
      {},
      attention.forward(subtree(params, "attention"), state, context),
      context,
    ); // shape: [batch, steps, hidden]
    const x = adapt("mhAdapter", attended, hidden, "attentionNorm", attentionNorm);
    const inner = this.activation(intermediate.forward(subtree(params, "intermediate"), x, context));
    const out = this.outputDropout.forward(
      {},
      output.forward(subtree(params, "output"), inner, context),
      context,
    );
    return adapt("outputAdapter", out, x, "outputNorm", outputNorm);
  }
}

/** An AdapterHub bottleneck configuration (`BnConfig`) for `@xlt/nn` encoders. */
export interface EncoderAdapterConfig extends AdapterArrangement {
  /** The adapter's name (default `"adapter"`); stacked adapters need different names. */
  readonly name?: string;
  /** An adapter after each layer's attention sublayer (`mh_adapter`). */
  readonly mhAdapter: boolean;
  /** An adapter after each layer's feed-forward sublayer (`output_adapter`). */
  readonly outputAdapter: boolean;
  /**
   * Hidden size / bottleneck size: the bottleneck has `max(1, hidden // reductionFactor)` units (Python's floor division). A
   * record gives layers their own (`{ "0": 8, default: 16 }`, AdapterHub's mapping by layer index).
   */
  readonly reductionFactor: number | Readonly<Record<string, number>>;
  readonly nonLinearity: AdapterNonLinearity;
  /** Factor on the adapter's output before its residual (default 1; He et al. 2021). */
  readonly scaling?: number;
  /** Dropout on the adapter's output (default 0). */
  readonly dropout?: number;
  /** Seed of that dropout's masks (default 0); each block derives its own from its path. */
  readonly seed?: number;
  /** Default `"bert"`, AdapterHub's default. */
  readonly initWeights?: AdapterInit;
  /** Layers (counted from 0 in module order) that get no adapter (`leave_out`). */
  readonly leaveOut?: readonly number[];
  /** Modules whose parameters train with the adapter (layer norms, say), matched as `targetModules`. */
  readonly trainModules?: TargetModules;
  /** Modules trained in full (a new classifier head). */
  readonly modulesToSave?: readonly string[];
}

/**
 * Pfeiffer et al. 2020 (AdapterHub's `SeqBnConfig`, `"seq_bn"` or `"pfeiffer"`): one adapter after
 * the feed-forward, between two applications of the layer's original residual and LayerNorm.
 */
export const SEQ_BN: EncoderAdapterConfig = {
  mhAdapter: false,
  outputAdapter: true,
  reductionFactor: 16,
  nonLinearity: "relu",
  originalLnBefore: true,
  originalLnAfter: true,
  residualBeforeLn: true,
};

/**
 * Houlsby et al. 2019 (AdapterHub's `DoubleSeqBnConfig`, `"double_seq_bn"` or `"houlsby"`): adapters
 * after attention and after the feed-forward, each before the original residual and LayerNorm.
 */
export const DOUBLE_SEQ_BN: EncoderAdapterConfig = {
  mhAdapter: true,
  outputAdapter: true,
  reductionFactor: 16,
  nonLinearity: "swish",
  originalLnBefore: false,
  originalLnAfter: true,
  residualBeforeLn: true,
};

const NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const INITS: readonly AdapterInit[] = ["bert", "mam_adapter", "houlsby"];

function checkConfig(fn: string, config: EncoderAdapterConfig): void {
  const name = config.name ?? "adapter";
  if (!NAME.test(name)) throw new PeftError(fn, "name", "an alphanumeric identifier", JSON.stringify(name));
  if (!config.mhAdapter && !config.outputAdapter)
    throw new PeftError(fn, "mhAdapter, outputAdapter", "at least one of them true", "both false");
  const factors: [argument: string, factor: number][] =
    typeof config.reductionFactor === "number"
      ? [["reductionFactor", config.reductionFactor]]
      : Object.entries(config.reductionFactor).map(([key, factor]) => [
          `reductionFactor[${JSON.stringify(key)}]`,
          factor,
        ]);
  for (const [argument, factor] of factors)
    if (!(typeof factor === "number" && factor > 0 && Number.isFinite(factor)))
      throw new PeftError(fn, argument, "a finite number > 0", String(factor));
  if (!Object.hasOwn(NON_LINEARITIES, config.nonLinearity))
    throw new PeftError(
      fn,
      "nonLinearity",
      `one of ${Object.keys(NON_LINEARITIES).join(", ")}`,
      JSON.stringify(config.nonLinearity),
    );
  const residual = config.residualBeforeLn;
  if (residual !== true && residual !== false && residual !== "post_add")
    throw new PeftError(fn, "residualBeforeLn", 'true, false or "post_add"', JSON.stringify(residual));
  if (residual === "post_add" && !config.originalLnBefore)
    throw new PeftError(fn, "residualBeforeLn", '"post_add" only with originalLnBefore', '"post_add"');
  const scaling = config.scaling ?? 1;
  if (!Number.isFinite(scaling)) throw new PeftError(fn, "scaling", "a finite number", String(scaling));
  const dropout = config.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1))
    throw new PeftError(fn, "dropout", "a number in [0, 1)", String(dropout));
  const init = config.initWeights ?? "bert";
  if (!INITS.includes(init))
    throw new PeftError(fn, "initWeights", '"bert", "mam_adapter" or "houlsby"', JSON.stringify(init));
  for (const index of config.leaveOut ?? [])
    if (!(Number.isInteger(index) && index >= 0))
      throw new PeftError(fn, "leaveOut", "layer indices (integers >= 0)", String(index));
  if (typeof config.trainModules === "string") checkPattern(fn, "trainModules", config.trainModules);
}

/** The reduction factor of layer `index`: the number, or the record's entry for the layer or its `default`. */
function reductionFactor(fn: string, factor: EncoderAdapterConfig["reductionFactor"], index: number): number {
  if (typeof factor === "number") return factor;
  const chosen = factor[String(index)] ?? factor.default;
  if (chosen === undefined)
    throw new PeftError(
      fn,
      "reductionFactor",
      `an entry for layer ${index} or a "default"`,
      JSON.stringify(factor),
    );
  return chosen;
}

/** The hidden size and dtype of a layer, read from its output LayerNorm's gain. */
function layerShape(layer: EncoderLayer | AdapterEncoderLayer): [number, Parameter["dtype"]] {
  const gain = layer.modules.outputNorm.parameters.weight;
  if (!(gain instanceof Parameter))
    throw new PeftError("applyEncoderAdapters", "model", "layer norms with a weight", "none");
  return [gain.shape[0] ?? 1, gain.dtype];
}

/**
 * Adds a bottleneck adapter, arranged as `config` says (`SEQ_BN`, `DOUBLE_SEQ_BN` or your own), to
 * every `EncoderLayer` of the model outside `leaveOut`, on top of the adapters already there (MAD-X
 * stacking: a task adapter over a language adapter), and freezes everything else, earlier adapters
 * included: only this adapter, the `trainModules` and the `modulesToSave` train (with
 * `keepTrainable`, what trained before trains on).
 */
export function applyEncoderAdapters<M extends AnyModule>(
  model: M,
  config: EncoderAdapterConfig,
  options: ApplyOptions = {},
): M {
  const fn = "applyEncoderAdapters";
  checkConfig(fn, config);
  const name = config.name ?? "adapter";
  const rename = options.moduleName ?? ((path: string) => path);
  const saved = modulesToSavePaths(fn, model, config.modulesToSave ?? [], options);
  const leaveOut = new Set(config.leaveOut ?? []);
  const wrapped: string[] = [];
  let layers = 0;
  const transformed = mapModules(model, (module, path) => {
    if (!(module instanceof EncoderLayer || module instanceof AdapterEncoderLayer)) return undefined;
    const index = layers;
    layers += 1;
    if (leaveOut.has(index)) return module;
    const layer = module instanceof AdapterEncoderLayer ? module : AdapterEncoderLayer.wrap(module);
    if (Object.hasOwn(layer.modules.adapters.modules, name))
      throw new PeftError(fn, "name", "a name the model's adapters do not use", JSON.stringify(name));
    const [hidden, dtype] = layerShape(layer);
    const size = Math.max(1, floorDivide(hidden, reductionFactor(fn, config.reductionFactor, index)));
    const block = (location: AdapterLocation) =>
      new Bottleneck(hidden, size, config.nonLinearity, config.scaling ?? 1, {
        init: config.initWeights ?? "bert",
        dropout: config.dropout ?? 0,
        seed: siteSeed(config.seed ?? 0, `${path}.adapters.${name}.${location}`),
        dtype,
      });
    const blocks = {
      ...(config.mhAdapter ? { mhAdapter: block("mhAdapter") } : {}),
      ...(config.outputAdapter ? { outputAdapter: block("outputAdapter") } : {}),
    };
    const { originalLnBefore, originalLnAfter, residualBeforeLn } = config;
    wrapped.push(`${path}.adapters.${name}`);
    return layer.withAdapter(
      name,
      new LayerAdapter(blocks, { originalLnBefore, originalLnAfter, residualBeforeLn }),
    );
  });
  if (layers === 0)
    throw new PeftError(fn, "model", "a model with @xlt/nn EncoderLayer blocks", "none in its modules");
  const train = config.trainModules;
  return setTrainable(transformed, (path, parameter) => {
    if (options.keepTrainable && parameter.trainable) return true;
    if (saved.some((prefix) => within(path, prefix))) return true;
    if (wrapped.some((prefix) => within(path, prefix))) return true;
    const owner = path.slice(0, Math.max(0, path.lastIndexOf(".")));
    return train !== undefined && matchesTarget(train, rename(owner));
  });
}
