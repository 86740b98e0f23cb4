/** The error every public `@xlt/graph` function throws on bad input. `fn` and `argument` name the culprit. */
export class GraphError extends Error {
  override readonly name = "GraphError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
