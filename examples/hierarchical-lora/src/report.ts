import { type ComparisonTable, compareConditions, type Run, summary, toLatex, toMarkdown } from "@xlt/stats";
import { HqlError } from "./errors.js";
import { BASELINE, METHODS } from "./methods.js";
import type { RunRecord } from "./plan.js";

/** The comparison's tables: Markdown and LaTeX (booktabs), and a summary of cost by method. */
export interface Report {
  readonly table: ComparisonTable;
  /** HQL down the phylogenetic tree against HQL down the distant one (`null` without both). */
  readonly trees: ComparisonTable | null;
  readonly markdown: string;
  readonly latex: string;
}

const format = (value: number, digits: number) => value.toFixed(digits);

/**
 * Compares every method with per-language LoRAs in each language with ASO (ε_min < 0.5 at
 * confidence 0.95, Bonferroni over the languages, as deep-significance does), over the seeds each
 * method has (at least two). Under the table: each method's accuracy averaged over the languages
 * (mean ± std over seeds), the optimizer steps behind one language's model, and the minutes of a run;
 * then the two trees against each other: HQL down the phylogenetic tree tested against HQL down the
 * distant one, the study's control, with ASO in each language in the same way.
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
  // The control first: it is the table's baseline column.
  const hql = [
    ...runs.filter((run) => run.condition === "hql-distant"),
    ...runs.filter((run) => run.condition === "hql-phylogenetic"),
  ];
  const both = new Set(hql.map((run) => run.condition)).size === 2;
  const trees = both
    ? compareConditions(hql, { metric: "accuracy", baseline: "hql-distant", test: "aso", seed: 0 })
    : null;
  const treesMarkdown = trees
    ? `\n## The two trees\n\n${toMarkdown(trees, { scale: 100, digits: 1 }).trimEnd()}\n`
    : "";
  const options = { scale: 100, digits: 1 };
  return {
    table,
    trees,
    markdown: `${toMarkdown(table, options).trimEnd()}\n\n${costs}\n${treesMarkdown}`,
    latex:
      toLatex(table, { ...options, label: "tab:hierarchical-lora" }) +
      (trees ? `\n${toLatex(trees, { ...options, label: "tab:hierarchical-lora-trees" })}` : ""),
  };
}
