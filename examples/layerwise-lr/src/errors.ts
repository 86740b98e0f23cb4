/** The error the study's functions throw on bad input. `fn` and `argument` name the culprit. */
export class StudyError extends Error {
  override readonly name = "StudyError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
