/** The error every public `@xlt/heads` function throws on bad input. `fn` and `argument` name the culprit. */
export class HeadsError extends Error {
  override readonly name = "HeadsError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
