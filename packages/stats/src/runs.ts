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

/** Reads a CSV table with a header row into runs. */
export function parseCsv(text: string, source = "input"): Run[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) throw new StatsError("parseCsv", source, "a header row", "an empty file");
  const header = splitCsvLine(lines[0]!);
  return lines.slice(1).map((line, index) => {
    const fields = splitCsvLine(line);
    if (fields.length !== header.length) {
      throw new StatsError(
        "parseCsv",
        `${source} line ${index + 2}`,
        `${header.length} fields like the header`,
        `${fields.length}`,
      );
    }
    return Object.fromEntries(header.map((name, column) => [name, fields[column]!]));
  });
}

/** Reads JSON Lines: one JSON object per non-empty line. */
export function parseJsonl(text: string, source = "input"): Run[] {
  const runs: Run[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new StatsError(
        "parseJsonl",
        `${source} line ${index + 1}`,
        "a JSON object",
        JSON.stringify(line.slice(0, 40)),
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new StatsError(
        "parseJsonl",
        `${source} line ${index + 1}`,
        "a JSON object",
        JSON.stringify(value),
      );
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
  });
  return runs;
}
