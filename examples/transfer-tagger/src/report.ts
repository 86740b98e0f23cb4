import {
  adjustPValues,
  compareConditions,
  escapeLatex,
  pairedBootstrap,
  summary,
  toLatex,
  toMarkdown,
} from "@xlt/stats";
import { scoreFromTotals } from "./model.js";
import { conditionName } from "./plan.js";
import type { RunRecord } from "./results.js";
import { TASKS, type TargetName } from "./tasks.js";

/** Resamples of the paired bootstrap over test sentences. */
export const BOOTSTRAP_RESAMPLES = 5000;

/** A paired bootstrap of one condition against the baseline in one target. */
export interface PairedComparison {
  readonly target: TargetName;
  readonly condition: string;
  /** Seeds both conditions finished (their sentence totals are summed). */
  readonly seeds: number;
  readonly difference: number;
  readonly ci: readonly [number, number];
  readonly pValue: number;
  /** Bonferroni-adjusted over the targets compared for this condition. */
  readonly adjusted: number;
}

/** What the report shows: the ASO table, the paired tests and the sweep. */
export interface Report {
  readonly markdown: string;
  readonly latex: string;
  readonly paired: readonly PairedComparison[];
}

function conditionOf(record: RunRecord, withSource: boolean): string {
  return conditionName(record, withSource);
}

/** Whether some target has runs from more than one source (then conditions name their source). */
function severalSources(records: readonly RunRecord[]): boolean {
  const byTarget = new Map<string, Set<string>>();
  for (const r of records)
    if (r.source !== null) byTarget.set(r.target, (byTarget.get(r.target) ?? new Set()).add(r.source));
  return [...byTarget.values()].some((sources) => sources.size > 1);
}

/** Conditions present with at least two seeds in every target, baseline first, then transfer by k, then pseudo. */
function sharedConditions(records: readonly RunRecord[], withSource: boolean): string[] {
  const targets = [...new Set(records.map((r) => r.target))];
  const seeds = new Map<string, number>();
  for (const r of records) {
    const key = `${r.target}\u0000${conditionOf(r, withSource)}`;
    seeds.set(key, (seeds.get(key) ?? 0) + 1);
  }
  const order = (r: RunRecord) => (r.recipe === "baseline" ? 0 : r.recipe === "transfer" ? 1 : 2);
  const sorted = [...records].sort((a, b) => order(a) - order(b) || (a.k ?? 0) - (b.k ?? 0));
  const conditions = [...new Set(sorted.map((r) => conditionOf(r, withSource)))];
  return conditions.filter((c) => targets.every((t) => (seeds.get(`${t}\u0000${c}`) ?? 0) >= 2));
}

function targetLabel(target: TargetName, records: readonly RunRecord[]): string {
  const task = TASKS[target];
  const sources = [...new Set(records.filter((r) => r.target === target && r.source).map((r) => r.source))];
  return `${target} ${task.task.toUpperCase()}${sources.length > 0 ? ` ← ${sources.join(", ")}` : ""}`;
}

/** Per target and condition, the paired bootstrap of the seed-summed sentence totals against the baseline. */
export function pairedComparisons(
  records: readonly RunRecord[],
  conditions: readonly string[],
): PairedComparison[] {
  const withSource = severalSources(records);
  const targets = [...new Set(records.map((r) => r.target))];
  const raw: Omit<PairedComparison, "adjusted">[] = [];
  for (const condition of conditions.filter((c) => c !== "baseline")) {
    for (const target of targets) {
      const of = (name: string) =>
        new Map(
          records
            .filter((r) => r.target === target && conditionOf(r, withSource) === name)
            .map((r) => [r.seed, r.sentenceTotals]),
        );
      const a = of(condition);
      const b = of("baseline");
      const seeds = [...a.keys()].filter((seed) => b.has(seed));
      if (seeds.length === 0) continue;
      const sum = (runs: Map<number, readonly (readonly number[])[]>) => {
        const first = runs.get(seeds[0] as number) ?? [];
        const width = first[0]?.length ?? 0;
        const data = new Float64Array(first.length * width);
        for (const seed of seeds)
          for (const [s, row] of (runs.get(seed) ?? []).entries())
            for (const [c, value] of row.entries()) data[s * width + c] = (data[s * width + c] ?? 0) + value;
        return { data, dims: [first.length, width] as const };
      };
      const task = TASKS[target].task;
      const result = pairedBootstrap(sum(a), sum(b), {
        metric: (totals) => scoreFromTotals(task, totals),
        resamples: BOOTSTRAP_RESAMPLES,
        seed: 0,
      });
      raw.push({
        target,
        condition,
        seeds: seeds.length,
        difference: result.difference,
        ci: [result.ci[0], result.ci[1]],
        pValue: result.pValue,
      });
    }
  }
  const out: PairedComparison[] = [];
  for (const condition of new Set(raw.map((r) => r.condition))) {
    const rows = raw.filter((r) => r.condition === condition);
    const adjusted = adjustPValues(
      rows.map((r) => r.pValue),
      "bonferroni",
    );
    rows.forEach((row, i) => {
      out.push({ ...row, adjusted: adjusted[i] as number });
    });
  }
  return out;
}

function points(value: number): string {
  return (100 * value).toFixed(1);
}

/** Mean ± std (or the single value) of the scores, in points. */
function cell(scores: readonly number[]): string {
  if (scores.length === 0) return "–";
  if (scores.length === 1) return points(scores[0] as number);
  const s = summary(scores);
  return `${points(s.mean)} ± ${points(s.std)}`;
}

/** Source-size sweep: one row per target and source, one column per k (k = 0 is the baseline). */
function sweepTable(records: readonly RunRecord[]): { markdown: string; latex: string } {
  const ks = [...new Set(records.filter((r) => r.k !== null).map((r) => r.k as number))].sort(
    (a, b) => a - b,
  );
  const rows: string[][] = [];
  for (const target of [...new Set(records.map((r) => r.target))]) {
    const baseline = records
      .filter((r) => r.target === target && r.recipe === "baseline")
      .map((r) => r.score);
    const sources = [
      ...new Set(records.filter((r) => r.target === target && r.source).map((r) => r.source as string)),
    ];
    for (const source of sources.length > 0 ? sources : ["–"])
      rows.push([
        `${target} ← ${source}`,
        cell(baseline),
        ...ks.map((k) =>
          cell(
            records
              .filter((r) => r.target === target && r.source === source && r.k === k)
              .map((r) => r.score),
          ),
        ),
      ]);
  }
  const header = ["target ← source", "k = 0 (baseline)", ...ks.map((k) => `k = ${k}`)];
  const markdown = [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
  const latex = [
    `\\begin{tabular}{l${"r".repeat(header.length - 1)}}`,
    "\\toprule",
    `${header.map((c) => escapeLatex(c).replace("←", "$\\leftarrow$")).join(" & ")} \\\\`,
    "\\midrule",
    ...rows.map(
      (row) =>
        `${row.map((c) => escapeLatex(c).replace(" ± ", " $\\pm$ ").replace("←", "$\\leftarrow$")).join(" & ")} \\\\`,
    ),
    "\\bottomrule",
    "\\end{tabular}",
  ].join("\n");
  return { markdown, latex };
}

/**
 * The results as Markdown and LaTeX: (1) every recipe against the baseline with ASO over seeds
 * (`@xlt/stats`' `compareConditions`, Bonferroni over the targets), for the conditions every target
 * has with two or more seeds; (2) the paired bootstrap over test sentences of the seed-summed
 * sufficient statistics, Bonferroni over the targets; (3) the source-size sweep.
 */
export function buildReport(records: readonly RunRecord[]): Report {
  const withSource = severalSources(records);
  const conditions = sharedConditions(records, withSource);
  const sections: string[] = [];
  const latex: string[] = [];
  const labels = new Map(
    [...new Set(records.map((r) => r.target))].map((t) => [t, targetLabel(t, records)] as const),
  );
  if (conditions.includes("baseline") && conditions.length > 1) {
    const table = compareConditions(
      records
        .filter((r) => conditions.includes(conditionOf(r, withSource)))
        .map((r) => ({
          language: labels.get(r.target) ?? r.target,
          condition: conditionOf(r, withSource),
          seed: r.seed,
          score: r.score,
        })),
      { metric: "score", baseline: "baseline", seed: 0 },
    );
    const metric = { ...table, metric: "Test score (POS: token accuracy, NER: entity F1; %)" };
    sections.push(toMarkdown(metric, { scale: 100, digits: 1 }).trimEnd());
    // Row labels carry "←", which pdfLaTeX without a Unicode setup cannot typeset.
    latex.push(
      toLatex(metric, { scale: 100, digits: 1, label: "tab:transfer" })
        .trimEnd()
        .replaceAll("←", "$\\leftarrow$"),
    );
  } else {
    sections.push("(ASO needs the baseline and another recipe with at least two seeds in every target.)");
  }
  const paired = pairedComparisons(records, conditions);
  if (paired.length > 0) {
    const header = ["target", "condition", "seeds", "Δ vs baseline (points)", "95% CI", "p (Bonferroni)"];
    const rows = paired.map((p) => [
      labels.get(p.target) ?? p.target,
      p.condition,
      String(p.seeds),
      `${p.difference >= 0 ? "+" : ""}${points(p.difference)}`,
      `[${points(p.ci[0])}, ${points(p.ci[1])}]`,
      `${p.adjusted < 0.001 ? "< 0.001" : p.adjusted.toFixed(3)}${p.adjusted < 0.05 ? "*" : ""}`,
    ]);
    sections.push(
      [
        `| ${header.join(" | ")} |`,
        `| ${header.map((_, i) => (i < 2 ? "---" : "---:")).join(" | ")} |`,
        ...rows.map((row) => `| ${row.join(" | ")} |`),
        "",
        `Paired bootstrap over test sentences (${BOOTSTRAP_RESAMPLES} resamples; Koehn 2004, Berg-Kirkpatrick et al. 2012) of the per-sentence sufficient statistics summed over the seeds both conditions finished, the corpus score recomputed on each resample; p two-sided, Bonferroni over the targets; * p < 0.05.`,
      ].join("\n"),
    );
    latex.push(
      [
        `\\begin{tabular}{llrrrr}`,
        "\\toprule",
        `${header.map(escapeLatex).join(" & ")} \\\\`,
        "\\midrule",
        ...rows.map(
          (row) =>
            `${row.map((c) => escapeLatex(c).replace("←", "$\\leftarrow$").replace("< ", "$<$ ")).join(" & ")} \\\\`,
        ),
        "\\bottomrule",
        "\\end{tabular}",
      ].join("\n"),
    );
  }
  const sweep = sweepTable(records);
  sections.push(
    `Source-size sweep (test score, %, mean ± std over seeds; k × labelled source sentences):\n\n${sweep.markdown}`,
  );
  latex.push(sweep.latex);
  return { markdown: `${sections.join("\n\n")}\n`, latex: `${latex.join("\n\n")}\n`, paired };
}
