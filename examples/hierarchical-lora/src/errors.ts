/** The error the example's functions throw on bad input. `fn` and `argument` name the culprit. */
export class HqlError extends Error {
  override readonly name = "HqlError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
