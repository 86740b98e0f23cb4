/** Where in a file a parse error happened: `source` is the file path (or the name given to a string), `line` is 1-based. */
export interface SourceLocation {
  readonly source: string;
  readonly line: number;
}

/**
 * The error every public `@xlt/data` function throws on bad input. `fn` and `argument` name the culprit;
 * for file contents `argument` is `file:line` and `location` holds the same position.
 */
export class DataError extends Error {
  override readonly name = "DataError";
  readonly location: SourceLocation | undefined;
  constructor(
    readonly fn: string,
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
    location?: SourceLocation,
  ) {
    super(`${fn}: ${argument}: expected ${expected}, got ${got}`);
    this.location = location;
  }

  /** An error about the contents of `source` at 1-based `line`. */
  static at(fn: string, location: SourceLocation, expected: string, got: string): DataError {
    return new DataError(fn, `${location.source}:${location.line}`, expected, got, location);
  }
}

/** Shows a value inside an error message: strings quoted and shortened, everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    const short = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(short);
  }
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}
