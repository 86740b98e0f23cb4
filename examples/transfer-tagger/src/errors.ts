/** The error the transfer-tagger app throws on bad input. `fn` and `argument` name the culprit. */
export class TransferError extends Error {
  override readonly name = "TransferError";
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
  }
}
