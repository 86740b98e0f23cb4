/** The error every public `@xlt/crf` function throws on bad input. `fn` and `argument` name the culprit. */
export class CrfError extends Error {
  override readonly name = "CrfError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
