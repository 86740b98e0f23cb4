import { readFileSync, writeFileSync } from "node:fs";
import { extname } from "node:path";
import { parseArgs } from "node:util";
import { ADJUST_METHODS } from "./adjust.js";
import { COMPARISON_TESTS, type CompareOptions, type ComparisonTable, compareConditions } from "./compare.js";
import { StatsError } from "./errors.js";
import { readCsv, readJsonl } from "./runs.js";
import { checkDigits, checkScale, toLatex, toMarkdown } from "./table.js";
import { checkChoice } from "./validate.js";

export const USAGE = `Usage: xlt-stats RUNS.(csv|jsonl) [options]

Compares every condition with a baseline in each language over seeds and prints the results table.

  --metric NAME            score column (default: score)
  --test NAME              ${COMPARISON_TESTS.join(" | ")} (default: aso)
  --baseline NAME          condition to compare with (default: the first in the file)
  --threshold X            ASO: epsilon_min threshold (0.5); p-value tests: alpha (0.05)
  --strict                 ASO threshold 0.2
  --correction NAME        ${ADJUST_METHODS.join(" | ")} over languages (p-value tests; default: bonferroni)
  --condition-column NAME  (default: condition)
  --language-column NAME   (default: language; one group "all" when absent)
  --seed-column NAME       (default: seed; pairs runs for paired tests)
  --seed N                 seed of ASO's bootstrap and the permutation test (default: 0)
  --digits N               decimals (default: 3)
  --scale X                multiply means and stds, e.g. 100 for percent (default: 1)
  --format md|tex          what to print (default: md)
  --out PREFIX             also write PREFIX.md and PREFIX.tex
  --help                   this text
`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed))
    throw new StatsError("xlt-stats", `--${name}`, "a number", JSON.stringify(value));
  return parsed;
}

/** Adds the file line to a `compareConditions` error about `runs[i]`, so the message points into the file. */
function withFileLine(error: unknown, path: string, lines: readonly number[]): unknown {
  if (!(error instanceof StatsError)) return error;
  const match = /^runs\[(\d+)\]/.exec(error.argument);
  const line = match === null ? undefined : lines[Number(match[1])];
  if (line === undefined) return error;
  return new StatsError(error.fn, `${error.argument} (${path} line ${line})`, error.expected, error.got);
}

/** Runs the `xlt-stats` command line with `argv` (without node and script); returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo): number {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        metric: { type: "string" },
        test: { type: "string" },
        baseline: { type: "string" },
        threshold: { type: "string" },
        strict: { type: "boolean" },
        correction: { type: "string" },
        "condition-column": { type: "string" },
        "language-column": { type: "string" },
        "seed-column": { type: "string" },
        seed: { type: "string" },
        digits: { type: "string" },
        scale: { type: "string" },
        format: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean" },
      },
    });
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new StatsError(
        "xlt-stats",
        "RUNS",
        "one results file (.csv or .jsonl)",
        `${positionals.length} arguments`,
      );
    }
    const path = positionals[0]!;
    const extension = extname(path).toLowerCase();
    if (extension !== ".csv" && extension !== ".jsonl" && extension !== ".ndjson") {
      throw new StatsError("xlt-stats", "RUNS", "a .csv or .jsonl file", JSON.stringify(path));
    }
    const text = readFileSync(path, "utf8");
    const { runs, lines } = extension === ".csv" ? readCsv(text, path) : readJsonl(text, path);
    const format = checkChoice("xlt-stats", "--format", values.format, ["md", "tex"], "md");
    const test = checkChoice("xlt-stats", "--test", values.test, COMPARISON_TESTS, "aso");
    const tableOptions = {
      digits: checkDigits("xlt-stats", "--digits", number("digits", values.digits)),
      scale: checkScale("xlt-stats", "--scale", number("scale", values.scale)),
    };
    const options: CompareOptions = {
      ...(values.metric === undefined ? {} : { metric: values.metric }),
      test,
      ...(values.baseline === undefined ? {} : { baseline: values.baseline }),
      ...(values.threshold !== undefined
        ? { threshold: number("threshold", values.threshold) }
        : values.strict
          ? { threshold: 0.2 }
          : {}),
      ...(values.correction === undefined
        ? {}
        : {
            correction: checkChoice(
              "xlt-stats",
              "--correction",
              values.correction,
              ADJUST_METHODS,
              "bonferroni",
            ),
          }),
      ...(values["condition-column"] === undefined ? {} : { conditionColumn: values["condition-column"] }),
      ...(values["language-column"] === undefined ? {} : { languageColumn: values["language-column"] }),
      ...(values["seed-column"] === undefined ? {} : { seedColumn: values["seed-column"] }),
      ...(values.seed === undefined ? {} : { seed: number("seed", values.seed) }),
    };
    let table: ComparisonTable;
    try {
      table = compareConditions(runs, options);
    } catch (error) {
      throw withFileLine(error, path, lines);
    }
    const markdown = toMarkdown(table, tableOptions);
    const latex = toLatex(table, tableOptions);
    if (values.out !== undefined) {
      writeFileSync(`${values.out}.md`, markdown);
      writeFileSync(`${values.out}.tex`, latex);
    }
    io.stdout(format === "md" ? markdown : latex);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`xlt-stats: ${message}\n`);
    return error instanceof StatsError ? 1 : 2;
  }
}
