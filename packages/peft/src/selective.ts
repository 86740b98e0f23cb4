import { Embedding } from "@xlt/nn";
import { PeftError } from "./errors.js";
import { modulesToSavePaths, within } from "./lora.js";
import { type AnyModule, namedModules, setTrainable } from "./modules.js";
import { matchesTarget, type TargetModules } from "./patterns.js";

export interface BitFitOptions {
  /** Train only the biases of these modules (e.g. `["query", "value"]`); default every bias. */
  readonly modules?: TargetModules;
  /** Modules trained in full besides the biases (a new classifier head). */
  readonly modulesToSave?: readonly string[];
  /** Keep parameters that are already trainable trainable (default false). */
  readonly keepTrainable?: boolean;
}

/**
 * BitFit (Ben Zaken et al. 2022, "BitFit: Simple Parameter-efficient Fine-tuning for
 * Transformer-based Masked Language-models"): only bias terms train (parameters named `bias`),
 * optionally only those of some modules, plus any `modulesToSave`; everything else is frozen.
 */
export function applyBitFit<M extends AnyModule>(model: M, options: BitFitOptions = {}): M {
  const fn = "applyBitFit";
  const saved = modulesToSavePaths(fn, model, options.modulesToSave ?? []);
  let biases = 0;
  const result = setTrainable(model, (path, parameter) => {
    if (saved.some((prefix) => within(path, prefix))) return true;
    const at = path.lastIndexOf(".");
    if (path.slice(at + 1) !== "bias") return options.keepTrainable === true && parameter.trainable;
    const owner = path.slice(0, Math.max(0, at));
    const chosen = options.modules === undefined || matchesTarget(options.modules, owner);
    if (chosen) biases += 1;
    return chosen || (options.keepTrainable === true && parameter.trainable);
  });
  if (biases === 0)
    throw new PeftError(
      fn,
      "modules",
      "modules with a bias",
      JSON.stringify(options.modules ?? "every module"),
    );
  return result;
}

export interface EmbeddingOnlyOptions {
  /** Which `Embedding` modules train (default: every one); e.g. `"embeddings.word"` for the input table. */
  readonly modules?: TargetModules;
  /** Keep parameters that are already trainable trainable (default false). */
  readonly keepTrainable?: boolean;
}

/**
 * Embedding-only training: the input embedding table(s) train and everything else is frozen, as
 * after extending a vocabulary for a new language.
 */
export function applyEmbeddingOnly<M extends AnyModule>(model: M, options: EmbeddingOnlyOptions = {}): M {
  const fn = "applyEmbeddingOnly";
  const tables = namedModules(model)
    .filter(
      ([path, module]) =>
        module instanceof Embedding &&
        (options.modules === undefined || matchesTarget(options.modules, path)),
    )
    .map(([path]) => path);
  if (tables.length === 0)
    throw new PeftError(
      fn,
      "modules",
      "a pattern matching at least one Embedding",
      JSON.stringify(options.modules ?? "every Embedding"),
    );
  return setTrainable(
    model,
    (path, parameter) =>
      tables.some((prefix) => within(path, prefix)) ||
      (options.keepTrainable === true && parameter.trainable),
  );
}
