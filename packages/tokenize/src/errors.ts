/** The error every public `@xlt/tokenize` function throws on bad input. `fn` and `argument` name the culprit. */
export class TokenizeError extends Error {
  override readonly name = "TokenizeError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}

/** Shows a value inside an error message. */
export function show(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}

/** Whether `value` is an array; unlike `Array.isArray` it does not narrow readonly arrays to `any[]`. */
export function isArray(value: unknown): boolean {
  return Array.isArray(value);
}
