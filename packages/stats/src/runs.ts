import { StatsError } from "./errors.js";

/** One training run: its column values as read (strings from CSV, JSON values from JSONL). */
export type Run = Readonly<Record<string, string | number | boolean | null>>;

/** Splits one CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote). */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else field += char;
  }
  fields.push(field);
  return fields.map((value) => value.trim());
}

/** Runs read from a file together with the 1-based line each run came from. */
export interface NumberedRuns {
  readonly runs: Run[];
  readonly lines: number[];
}

/** The non-blank lines of `text` with their 1-based line numbers in the original text. */
function numberedLines(text: string): Array<{ line: string; number: number }> {
  return text
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== "");
}

/** `parseCsv` that also returns each run's line number in `text` (blank lines keep their numbers). */
export function readCsv(text: string, source: string): NumberedRuns {
  const rows = numberedLines(text);
  if (rows.length === 0) throw new StatsError("parseCsv", source, "a header row", "an empty file");
  const header = splitCsvLine(rows[0]!.line);
  const runs = rows.slice(1).map(({ line, number }) => {
    const fields = splitCsvLine(line);
    if (fields.length !== header.length) {
      throw new StatsError(
        "parseCsv",
        `${source} line ${number}`,
        `${header.length} fields like the header`,
        `${fields.length}`,
      );
    }
    return Object.fromEntries(header.map((name, column) => [name, fields[column]!]));
  });
  return { runs, lines: rows.slice(1).map(({ number }) => number) };
}

/** Reads a CSV table with a header row into runs; blank lines are skipped. */
export function parseCsv(text: string, source = "input"): Run[] {
  return readCsv(text, source).runs;
}

/** `parseJsonl` that also returns each run's line number in `text`. */
export function readJsonl(text: string, source: string): NumberedRuns {
  const runs: Run[] = [];
  const lines: number[] = [];
  for (const { line, number } of numberedLines(text)) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new StatsError(
        "parseJsonl",
        `${source} line ${number}`,
        "a JSON object",
        JSON.stringify(line.slice(0, 40)),
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new StatsError("parseJsonl", `${source} line ${number}`, "a JSON object", JSON.stringify(value));
    }
    const run: Record<string, string | number | boolean | null> = {};
    for (const [key, field] of Object.entries(value)) {
      if (
        typeof field === "string" ||
        typeof field === "number" ||
        typeof field === "boolean" ||
        field === null
      ) {
        run[key] = field;
      }
    }
    runs.push(run);
    lines.push(number);
  }
  return { runs, lines };
}

/** Reads JSON Lines: one JSON object per non-empty line. */
export function parseJsonl(text: string, source = "input"): Run[] {
  return readJsonl(text, source).runs;
}
