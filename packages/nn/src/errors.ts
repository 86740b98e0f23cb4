/** The error every public `@xlt/nn` function throws on bad input. `fn` and `argument` name the culprit. */
export class NnError extends Error {
  override readonly name = "NnError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
