import type { Cell, ComparisonTable } from "./compare.js";
import { StatsError } from "./errors.js";

export interface TableOptions {
  /** Decimals shown, an integer in 0..20; 3 by default. */
  readonly digits?: number;
  /** Factor (finite, > 0) applied to means and standard deviations (100 to show percentages); 1 by default. */
  readonly scale?: number;
  /** LaTeX caption; the table's note by default. */
  readonly caption?: string;
  /** LaTeX label. */
  readonly label?: string;
}

interface RenderedCell {
  readonly mean: string;
  readonly std: string;
  readonly mark: string;
  /** `= 0.123` or `< 0.001`, after the test's symbol. */
  readonly value?: string;
}

interface Rendered {
  readonly header: string[];
  readonly rows: Array<{ language: string; cells: RenderedCell[] }>;
}

/** Checks a number of decimals: an integer in 0..20 (what every engine's `toFixed` accepts). */
export function checkDigits(fn: string, argument: string, value: unknown): number {
  if (value === undefined) return 3;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 20) {
    throw new StatsError(fn, argument, "an integer in 0..20", String(value));
  }
  return value;
}

/** Checks a scale factor: a finite number > 0. */
export function checkScale(fn: string, argument: string, value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new StatsError(fn, argument, "a finite number > 0", String(value));
  }
  return value;
}

function render(fn: string, table: ComparisonTable, options: TableOptions): Rendered {
  const digits = checkDigits(fn, "options.digits", options.digits);
  const scale = checkScale(fn, "options.scale", options.scale);
  const format = (cell: Cell | undefined) =>
    cell === undefined
      ? { mean: "–", std: "" }
      : { mean: (cell.mean * scale).toFixed(digits), std: (cell.std * scale).toFixed(digits) };
  return {
    header: ["Language", ...table.conditions],
    rows: table.languages.map((language) => ({
      language,
      cells: table.conditions.map((condition) => {
        const comparison = table.comparisons.find(
          (entry) => entry.language === language && entry.condition === condition,
        );
        const base = format(table.cells[language]?.[condition]);
        if (comparison === undefined) return { ...base, mark: "" };
        const value =
          comparison.value < 0.001 && table.test !== "aso" ? "< 0.001" : `= ${comparison.value.toFixed(3)}`;
        return { ...base, mark: comparison.significant ? "*" : "", value };
      }),
    })),
  };
}

function escapeMarkdown(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/**
 * A Markdown table: one row per language, one column per condition with mean ± std over seeds, the test's
 * ε_min or adjusted p beside each compared condition, `*` for significance, and the note (test, threshold,
 * correction) under the table.
 */
export function toMarkdown(table: ComparisonTable, options: TableOptions = {}): string {
  const { header, rows } = render("toMarkdown", table, options);
  const symbol = table.test === "aso" ? "ε" : "p";
  const lines = [
    `| ${header.map(escapeMarkdown).join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const row of rows) {
    const cells = row.cells.map((cell) => {
      const value = cell.std === "" ? cell.mean : `${cell.mean} ± ${cell.std}`;
      return cell.value === undefined ? value : `${value}${cell.mark} (${symbol} ${cell.value})`;
    });
    lines.push(`| ${[escapeMarkdown(row.language), ...cells].join(" | ")} |`);
  }
  lines.push("", `${table.metric}, mean ± std over seeds. ${table.note}`);
  return `${lines.join("\n")}\n`;
}

const LATEX_SPECIALS: Record<string, string> = {
  "\\": "\\textbackslash{}",
  "&": "\\&",
  "%": "\\%",
  $: "\\$",
  "#": "\\#",
  _: "\\_",
  "{": "\\{",
  "}": "\\}",
  "~": "\\textasciitilde{}",
  "^": "\\textasciicircum{}",
};

/** Escapes LaTeX's special characters in text. */
export function escapeLatex(text: string): string {
  return text.replace(/[\\&%$#_{}~^]/g, (char) => LATEX_SPECIALS[char]!);
}

/** The note in LaTeX: Greek and math symbols as commands. */
function latexNote(note: string): string {
  return escapeLatex(note)
    .replace(/ε\\_min/g, "$\\varepsilon_{\\min}$")
    .replace(/ε/g, "$\\varepsilon$")
    .replace(/ < /g, " $<$ ")
    .replace(/–/g, "--");
}

/**
 * The same table as LaTeX with booktabs rules (`\toprule`, `\midrule`, `\bottomrule`; needs
 * `\usepackage{booktabs}`), values in math mode, significance as a superscript `*`, and the note as caption.
 */
export function toLatex(table: ComparisonTable, options: TableOptions = {}): string {
  const { header, rows } = render("toLatex", table, options);
  const symbol = table.test === "aso" ? "\\varepsilon" : "p";
  const lines = [
    "\\begin{table}[t]",
    "\\centering",
    `\\begin{tabular}{l${"r".repeat(header.length - 1)}}`,
    "\\toprule",
    `${header.map(escapeLatex).join(" & ")} \\\\`,
    "\\midrule",
  ];
  for (const row of rows) {
    const cells = row.cells.map((cell) => {
      if (cell.std === "") return "--";
      const mark = cell.mark === "" ? "" : "^{*}";
      const value = cell.value === undefined ? "" : ` \\;(${symbol} ${cell.value})`;
      return `$${cell.mean} \\pm ${cell.std}${mark}${value}$`;
    });
    lines.push(`${[escapeLatex(row.language), ...cells].join(" & ")} \\\\`);
  }
  lines.push("\\bottomrule", "\\end{tabular}");
  const caption =
    options.caption === undefined
      ? `${escapeLatex(table.metric)}, mean $\\pm$ std over seeds. ${latexNote(table.note)}`
      : escapeLatex(options.caption);
  lines.push(`\\caption{${caption}}`);
  if (options.label !== undefined) lines.push(`\\label{${options.label}}`);
  lines.push("\\end{table}");
  return `${lines.join("\n")}\n`;
}
