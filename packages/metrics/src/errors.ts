/** The error every public `@xlt/metrics` function throws on bad input. `fn` and `argument` name the culprit. */
export class MetricsError extends Error {
  override readonly name = "MetricsError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
