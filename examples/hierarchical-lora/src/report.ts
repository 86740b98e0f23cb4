import { type ComparisonTable, compareConditions, type Run, summary, toLatex, toMarkdown } from "@xlt/stats";
import { HqlError } from "./errors.js";
import { BASELINE, METHODS } from "./methods.js";
import type { RunRecord } from "./plan.js";

/** The comparison's tables: Markdown and LaTeX (booktabs), and a summary of cost by method. */
export interface Report {
  readonly table: ComparisonTable;
  readonly markdown: string;
  readonly latex: string;
}

const format = (value: number, digits: number) => value.toFixed(digits);

/**
 * Compares every method with per-language LoRAs in each language with ASO (ε_min < 0.5 at
 * confidence 0.95, Bonferroni over the languages, as deep-significance does), over the seeds each
 * method has (at least two). Under the table: each method's accuracy averaged over the languages
 * (mean ± std over seeds), the optimizer steps behind one language's model, and the minutes of a run.
 */
export function report(records: readonly RunRecord[]): Report {
  if (records.length === 0) throw new HqlError("report", "records", "at least one record", "none");
  const runs: Run[] = [...records]
    .sort((a, b) => METHODS.indexOf(a.method) - METHODS.indexOf(b.method))
    .map((record) => ({
      condition: record.method,
      language: record.language,
      seed: record.seed,
      accuracy: record.score,
    }));
  const table = compareConditions(runs, { metric: "accuracy", baseline: BASELINE, test: "aso", seed: 0 });
  const rows = table.conditions.map((method) => {
    const mine = records.filter((record) => record.method === method);
    const seeds = [...new Set(mine.map((record) => record.seed))];
    const averages = seeds.map((seed) => {
      const scores = mine.filter((record) => record.seed === seed).map((record) => record.score);
      return scores.reduce((sum, score) => sum + score, 0) / scores.length;
    });
    const overall = summary(averages);
    const steps = summary(mine.map((record) => record.steps)).mean;
    const seconds = summary(
      seeds.map((seed) => mine.find((record) => record.seed === seed)?.seconds ?? 0),
    ).mean;
    return `| ${method} | ${format(100 * overall.mean, 1)} ± ${format(100 * overall.std, 1)} | ${format(steps, 0)} | ${format(seconds / 60, 1)} |`;
  });
  const costs = [
    "| method | accuracy, mean over languages | steps per language's model | minutes per run |",
    "| --- | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
  return {
    table,
    markdown: `${toMarkdown(table, { scale: 100, digits: 1 }).trimEnd()}\n\n${costs}\n`,
    latex: toLatex(table, { scale: 100, digits: 1, label: "tab:hierarchical-lora" }),
  };
}
