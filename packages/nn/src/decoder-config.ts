import { NnError } from "./errors.js";

/** Reads typed fields of a Hugging Face `config.json` object, with errors that name the field. */
export class ConfigReader {
  constructor(
    private readonly fn: string,
    private readonly config: Readonly<Record<string, unknown>>,
  ) {}

  /** A positive integer field, or `fallback` when absent (or null). */
  integer(key: string, fallback?: number): number {
    const value = this.config[key] ?? fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
      throw new NnError(this.fn, `config.${key}`, "a positive integer", JSON.stringify(value));
    return value;
  }

  /** A finite number field in `[low, high]`, or `fallback` when absent. */
  number(key: string, fallback: number, low: number, high: number): number {
    const value = this.config[key] ?? fallback;
    if (typeof value !== "number" || !(value >= low && value <= high))
      throw new NnError(this.fn, `config.${key}`, `a number in [${low}, ${high}]`, JSON.stringify(value));
    return value;
  }

  /** A boolean field, or `fallback` when absent. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.config[key] ?? fallback;
    if (typeof value !== "boolean")
      throw new NnError(this.fn, `config.${key}`, "a boolean", JSON.stringify(value));
    return value;
  }

  /** A field that must be one of `allowed` (the first is the default). */
  oneOf<T extends string>(key: string, allowed: readonly [T, ...T[]]): T {
    const value = this.config[key] ?? allowed[0];
    const found = allowed.find((option) => option === value);
    if (found === undefined)
      throw new NnError(this.fn, `config.${key}`, `one of ${allowed.join(", ")}`, JSON.stringify(value));
    return found;
  }

  /** Throws unless `key` is absent, null or equal to `accepted` (an option xlt does not implement). */
  unsupported(key: string, accepted: unknown): void {
    const value = this.config[key];
    if (value !== undefined && value !== null && value !== accepted)
      throw new NnError(
        this.fn,
        `config.${key}`,
        `${JSON.stringify(accepted)} or absent`,
        JSON.stringify(value),
      );
  }

  /** Throws unless the first class name of the list field `key` (`architectures`) is absent or one of `allowed`. */
  headClass(key: string, allowed: readonly string[]): void {
    const value = this.config[key];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null && !allowed.includes(String(first)))
      throw new NnError(this.fn, `config.${key}[0]`, `one of ${allowed.join(", ")}`, JSON.stringify(first));
  }
}
