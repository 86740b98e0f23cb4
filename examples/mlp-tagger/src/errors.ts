/** The error the tagger's functions throw on bad input. `fn` and `argument` name the culprit. */
export class TaggerError extends Error {
  override readonly name = "TaggerError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
