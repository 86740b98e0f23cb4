import { PeftError } from "./errors.js";

/**
 * Which modules a method targets, as Hugging Face PEFT's `target_modules`: a string is a regular
 * expression that must match the whole dotted module path (`re.fullmatch`); a list names modules by
 * their path or by a suffix of whole path components (`"query"` matches `encoder.layer0.query`).
 */
export type TargetModules = string | readonly string[];

/** Whether the module at `path` is targeted (PEFT's `check_target_module_exists`). */
export function matchesTarget(target: TargetModules, path: string): boolean {
  if (typeof target === "string") return new RegExp(`^(?:${target})$`).test(path);
  return target.some((name) => path === name || path.endsWith(`.${name}`));
}

/**
 * The first key of a `rank_pattern`/`alpha_pattern` that matches `path` as PEFT's `get_pattern_key`
 * does: the key is a regular expression matched against the end of the path at a component boundary
 * (`(.*\.)?(key)$`).
 */
export function patternKey(keys: readonly string[], path: string): string | undefined {
  return keys.find((key) => new RegExp(`^(?:.*\\.)?(?:${key})$`).test(path));
}

/** Checks that a pattern compiles as a regular expression; the error names the argument. */
export function checkPattern(fn: string, argument: string, pattern: string): void {
  try {
    new RegExp(pattern);
  } catch {
    throw new PeftError(fn, argument, "a valid regular expression", JSON.stringify(pattern));
  }
}

/** How xlt module paths are named in the files and configs a method reads (Hugging Face names). */
export interface ModuleNaming {
  /** xlt module path → the module's name in the base model's state dict (default: the same). */
  readonly moduleName?: (path: string) => string;
}

/** Options of the methods that transform a model. */
export interface ApplyOptions extends ModuleNaming {
  /**
   * Keep parameters that are already trainable trainable (compose methods: embedding-only training,
   * then LoRA). Default false: the method's own set is all that trains.
   */
  readonly keepTrainable?: boolean;
}
