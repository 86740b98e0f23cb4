/** The error every public `@xlt/peft` function throws on bad input. `fn` and `argument` name the culprit. */
export class PeftError extends Error {
  override readonly name = "PeftError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
