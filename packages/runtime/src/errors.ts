/** The error every public `@xlt/runtime` function throws on bad input. `fn` and `argument` name the culprit. */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
