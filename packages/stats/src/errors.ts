/** The error every public `@xlt/stats` function throws on bad input. `fn` and `argument` name the culprit. */
export class StatsError extends Error {
  override readonly name = "StatsError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
