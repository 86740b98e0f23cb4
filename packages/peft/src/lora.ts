import { deriveSeed, Linear } from "@xlt/nn";
import { PeftError } from "./errors.js";
import { type LoraInit, LoraLinear } from "./lora-linear.js";
import { type AnyModule, mapModules, namedModules, setTrainable } from "./modules.js";
import { Nf4Linear } from "./nf4-linear.js";
import {
  type ApplyOptions,
  checkPattern,
  type ModuleNaming,
  matchesTarget,
  patternKey,
  type TargetModules,
} from "./patterns.js";

/** Which biases train besides the LoRA matrices (PEFT's `bias`). */
export type LoraBias = "none" | "all" | "lora_only";

/** A LoRA configuration; field for field PEFT's `LoraConfig` (camelCase here, snake_case in the files). */
export interface LoraConfig {
  /** Modules to wrap: a regex over the whole dotted module path, or names matched as path suffixes. */
  readonly targetModules: TargetModules;
  /** Rank `r` (default 8). */
  readonly r?: number;
  /** `lora_alpha` (default 8). */
  readonly alpha?: number;
  /** `lora_dropout` (default 0). */
  readonly dropout?: number;
  /** Default `"none"`. */
  readonly bias?: LoraBias;
  /** Scale by `alpha/√r` instead of `alpha/r` (default false). */
  readonly useRslora?: boolean;
  /** A's initialisation (default `"kaiming"`, PEFT's `init_lora_weights=True`). */
  readonly init?: LoraInit;
  /** Modules trained in full besides LoRA (a new classifier head); matched as `targetModules` lists. */
  readonly modulesToSave?: readonly string[];
  /** Per-module ranks: regex keys matched against the end of the module path, first match wins. */
  readonly rankPattern?: Readonly<Record<string, number>>;
  /** Per-module alphas, as `rankPattern`. */
  readonly alphaPattern?: Readonly<Record<string, number>>;
  /** Seed of the LoRA dropout masks; each layer derives its own from its path (default 0). */
  readonly seed?: number;
}

/** The configuration with PEFT's defaults filled in. */
export type ResolvedLoraConfig = Required<LoraConfig>;

/** Fills PEFT's defaults and validates a LoRA configuration. */
export function resolveLoraConfig(config: LoraConfig, fn = "applyLora"): ResolvedLoraConfig {
  const resolved: ResolvedLoraConfig = {
    targetModules: config.targetModules,
    r: config.r ?? 8,
    alpha: config.alpha ?? 8,
    dropout: config.dropout ?? 0,
    bias: config.bias ?? "none",
    useRslora: config.useRslora ?? false,
    init: config.init ?? "kaiming",
    modulesToSave: config.modulesToSave ?? [],
    rankPattern: config.rankPattern ?? {},
    alphaPattern: config.alphaPattern ?? {},
    seed: config.seed ?? 0,
  };
  const target = resolved.targetModules;
  if (typeof target === "string") checkPattern(fn, "targetModules", target);
  else if (!Array.isArray(target) || target.length === 0)
    throw new PeftError(
      fn,
      "targetModules",
      "a regular expression or a non-empty list of names",
      JSON.stringify(target),
    );
  if (!(Number.isInteger(resolved.r) && resolved.r >= 1))
    throw new PeftError(fn, "r", "a positive integer", String(resolved.r));
  if (!Number.isFinite(resolved.alpha))
    throw new PeftError(fn, "alpha", "a finite number", String(resolved.alpha));
  if (!["none", "all", "lora_only"].includes(resolved.bias))
    throw new PeftError(fn, "bias", '"none", "all" or "lora_only"', JSON.stringify(resolved.bias));
  for (const [key, rank] of Object.entries(resolved.rankPattern)) {
    checkPattern(fn, `rankPattern key`, key);
    if (!(Number.isInteger(rank) && rank >= 1))
      throw new PeftError(fn, `rankPattern.${key}`, "a positive integer", String(rank));
  }
  for (const [key, alpha] of Object.entries(resolved.alphaPattern)) {
    checkPattern(fn, `alphaPattern key`, key);
    if (!Number.isFinite(alpha))
      throw new PeftError(fn, `alphaPattern.${key}`, "a finite number", String(alpha));
  }
  return resolved;
}

/** The rank and alpha of the module at `path` after `rankPattern`/`alphaPattern`. */
export function loraShape(config: ResolvedLoraConfig, path: string): { rank: number; alpha: number } {
  const rankKey = patternKey(Object.keys(config.rankPattern), path);
  const alphaKey = patternKey(Object.keys(config.alphaPattern), path);
  return {
    rank: rankKey === undefined ? config.r : (config.rankPattern[rankKey] as number),
    alpha: alphaKey === undefined ? config.alpha : (config.alphaPattern[alphaKey] as number),
  };
}

/** Paths of the modules matching `names` (PEFT's `modules_to_save` matching); an error if one matches nothing. */
export function modulesToSavePaths(
  fn: string,
  model: AnyModule,
  names: readonly string[],
  naming: ModuleNaming = {},
): string[] {
  const rename = naming.moduleName ?? ((path: string) => path);
  const paths = namedModules(model)
    .map(([path]) => path)
    .filter((path) => path !== "" && matchesTarget(names, rename(path)));
  for (const name of names) {
    if (!paths.some((path) => matchesTarget([name], rename(path))))
      throw new PeftError(fn, "modulesToSave", "names of modules in the model", JSON.stringify(name));
  }
  return paths;
}

/** Whether `path` is `prefix` itself or lies under it. */
export const within = (path: string, prefix: string) =>
  prefix === "" || path === prefix || path.startsWith(`${prefix}.`);

/**
 * Wraps every targeted `Linear` (or `Nf4Linear`) of `model` in a `LoraLinear` and freezes the rest:
 * afterwards only `lora_A`/`lora_B`, the biases `config.bias` names and the `modulesToSave` train,
 * and frozen parameters become initializers when the model is compiled. Composite modules must keep
 * their submodules in a `modules` record (the `@xlt/nn` convention) for the wrapping to reach them.
 * Patterns match module paths, or the names `naming.moduleName` gives them (a PEFT config's
 * Hugging Face module names).
 */
export function applyLora<M extends AnyModule>(model: M, config: LoraConfig, naming: ApplyOptions = {}): M {
  const fn = "applyLora";
  const rename = naming.moduleName ?? ((path: string) => path);
  const resolved = resolveLoraConfig(config, fn);
  const saved = modulesToSavePaths(fn, model, resolved.modulesToSave, naming);
  const wrapped: string[] = [];
  const transformed = mapModules(model, (module, path) => {
    const name = rename(path);
    if (!matchesTarget(resolved.targetModules, name) || saved.some((prefix) => within(path, prefix)))
      return undefined;
    if (!(module instanceof Linear || module instanceof Nf4Linear)) {
      throw new PeftError(
        fn,
        `targetModules (module ${JSON.stringify(path)})`,
        "only Linear or Nf4Linear modules",
        module.constructor.name,
      );
    }
    wrapped.push(path);
    const { rank, alpha } = loraShape(resolved, name);
    return new LoraLinear(module, {
      rank,
      alpha,
      dropout: resolved.dropout,
      dropoutSeed: deriveSeed(resolved.seed, path) % 2147483647,
      useRslora: resolved.useRslora,
      init: resolved.init,
    });
  });
  if (wrapped.length === 0)
    throw new PeftError(
      fn,
      "targetModules",
      "a pattern matching at least one module",
      JSON.stringify(resolved.targetModules),
    );
  return setTrainable(transformed, (path, parameter) => {
    const name = path.slice(path.lastIndexOf(".") + 1);
    const owner = path.slice(0, Math.max(0, path.lastIndexOf(".")));
    if (name === "lora_A" || name === "lora_B") return true;
    if (naming.keepTrainable && parameter.trainable) return true;
    if (saved.some((prefix) => within(path, prefix))) return true;
    if (name !== "bias") return false;
    return resolved.bias === "all" || (resolved.bias === "lora_only" && wrapped.includes(owner));
  });
}

/** The `LoraLinear` layers of a model with their module paths. */
export function loraLayers(model: AnyModule): [path: string, layer: LoraLinear][] {
  return namedModules(model).flatMap(([path, module]): [string, LoraLinear][] =>
    module instanceof LoraLinear ? [[path, module]] : [],
  );
}
