import { type ComparisonTable, compareConditions, type Run, toLatex, toMarkdown } from "@xlt/stats";
import { CONDITIONS } from "./conditions.js";
import { StudyError } from "./errors.js";
import type { RunRecord } from "./plan.js";

/** The study's tables: Markdown and LaTeX (booktabs) of the zero-shot scores. */
export interface Report {
  readonly table: ComparisonTable;
  readonly markdown: string;
  readonly latex: string;
}

/**
 * Compares every condition with the baseline in each target language with ASO (ε_min < 0.5 at
 * confidence 0.95, Bonferroni-corrected over the target languages, as deep-significance does), over
 * the seeds each condition has. Source-language records are left out of the test. Needs at least two
 * seeds per condition and language.
 */
export function report(records: readonly RunRecord[]): Report {
  const targets = records.filter((record) => record.role === "target");
  if (targets.length === 0) throw new StudyError("report", "records", "zero-shot (target) records", "none");
  const runs: Run[] = [...targets]
    .sort((a, b) => CONDITIONS.indexOf(a.condition) - CONDITIONS.indexOf(b.condition))
    .map((record) => ({
      condition: record.condition,
      language: record.language,
      seed: record.seed,
      accuracy: record.score,
    }));
  const table = compareConditions(runs, { metric: "accuracy", baseline: "baseline", test: "aso", seed: 0 });
  return {
    table,
    markdown: toMarkdown(table, { scale: 100, digits: 1 }),
    latex: toLatex(table, { scale: 100, digits: 1, label: "tab:layerwise-lr" }),
  };
}
