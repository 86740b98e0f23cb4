import { ADJUST_METHODS, type AdjustMethod, adjustPValues } from "./adjust.js";
import { aso } from "./aso.js";
import { StatsError } from "./errors.js";
import { mannWhitneyU } from "./mann-whitney.js";
import { pairedPermutationTest } from "./permutation.js";
import type { Run } from "./runs.js";
import { summary } from "./summary.js";
import { pairedTTest, welchTTest } from "./t-test.js";
import { checkChoice, checkProbability } from "./validate.js";
import { wilcoxonSignedRank } from "./wilcoxon.js";

/** The tests `compareConditions` can run; the paired ones pair runs by seed. */
export type ComparisonTest = "aso" | "paired-t" | "welch" | "wilcoxon" | "mann-whitney" | "permutation";

export const COMPARISON_TESTS: readonly ComparisonTest[] = [
  "aso",
  "paired-t",
  "welch",
  "wilcoxon",
  "mann-whitney",
  "permutation",
];

const PAIRED: ReadonlySet<ComparisonTest> = new Set(["paired-t", "wilcoxon", "permutation"]);

/** Mean ± std of one condition in one language. */
export interface Cell {
  readonly mean: number;
  readonly std: number;
  readonly n: number;
}

/** One condition compared with the baseline in one language. */
export interface Comparison {
  readonly language: string;
  readonly condition: string;
  readonly baseline: string;
  /** ε_min for ASO, the adjusted p-value otherwise. */
  readonly value: number;
  /** The raw p-value before adjustment (p-value tests only). */
  readonly rawPValue?: number;
  readonly significant: boolean;
}

/** Everything a results table shows; `toMarkdown` and `toLatex` render it. */
export interface ComparisonTable {
  readonly metric: string;
  readonly test: ComparisonTest;
  readonly languages: readonly string[];
  readonly conditions: readonly string[];
  readonly baseline: string;
  readonly cells: Readonly<Record<string, Readonly<Record<string, Cell>>>>;
  readonly comparisons: readonly Comparison[];
  /** How significance was decided, for the table note. */
  readonly note: string;
}

export interface CompareOptions {
  /** Column with the score; `"score"` by default. */
  readonly metric?: string;
  /** Column naming the condition; `"condition"` by default. */
  readonly conditionColumn?: string;
  /** Column naming the language; `"language"` by default (a single language `"all"` when the column is absent). */
  readonly languageColumn?: string;
  /** Column with the seed, used to pair runs; `"seed"` by default. */
  readonly seedColumn?: string;
  /** The condition the others are compared with; the first one in the file by default. */
  readonly baseline?: string;
  /** `"aso"` by default. */
  readonly test?: ComparisonTest;
  /** ASO threshold on ε_min (0.5; 0.2 is the strict choice) or α for p-values (0.05). */
  readonly threshold?: number;
  /** Correction over the languages for p-value tests; `"bonferroni"` by default. ASO always uses its own Bonferroni form. */
  readonly correction?: AdjustMethod;
  /** Seed of ASO's bootstrap and the permutation test; 0 by default. */
  readonly seed?: number;
}

function text(value: Run[string] | undefined): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** A decimal number as written in a results file: `0.81`, `-3`, `.5`, `1e-3` (no hex, no blanks). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The score of a run: a finite number, or a string holding a decimal number; undefined otherwise. */
function score(value: Run[string] | undefined): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * The seed of ASO's bootstrap or the permutation test: an integer seeding MT19937 (0..2^32 − 1); ASO seeds
 * its 1000 iterations with seed + 1 … seed + 1000, so its largest seed is 2^32 − 1001.
 */
function checkSeed(fn: string, value: unknown, test: ComparisonTest): number {
  if (value === undefined) return 0;
  const max = test === "aso" ? 0xffffffff - 1000 : 0xffffffff;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new StatsError(fn, "options.seed", `an integer in 0..${max}`, String(value));
  }
  return value;
}

/**
 * Compares every condition with the baseline in each language, as a study's significance script does:
 * groups runs by language and condition, summarises each group and runs the chosen test (ASO by default,
 * with deep-significance's Bonferroni over the languages; p-value tests adjusted over the languages; the
 * Wilcoxon test uses `zeroMethod: "zsplit"` so equal scores of a seed never abort the table).
 * Throws `StatsError` for a missing column, a non-numeric score, an unpaired seed, too few runs or a bad option.
 */
export function compareConditions(runs: readonly Run[], options: CompareOptions = {}): ComparisonTable {
  const fn = "compareConditions";
  const metric = options.metric ?? "score";
  const conditionColumn = options.conditionColumn ?? "condition";
  const languageColumn = options.languageColumn ?? "language";
  const seedColumn = options.seedColumn ?? "seed";
  const test = checkChoice(fn, "options.test", options.test, COMPARISON_TESTS, "aso");
  const correction = checkChoice(fn, "options.correction", options.correction, ADJUST_METHODS, "bonferroni");
  const threshold = checkProbability(fn, "options.threshold", options.threshold, test === "aso" ? 0.5 : 0.05);
  const seed = checkSeed(fn, options.seed, test);
  if (runs.length === 0) throw new StatsError(fn, "runs", "at least one run", "none");
  for (const column of [metric, conditionColumn, ...(PAIRED.has(test) ? [seedColumn] : [])]) {
    const missing = runs.findIndex((run) => text(run[column]) === undefined);
    if (missing >= 0) throw new StatsError(fn, `runs[${missing}]`, `a "${column}" column`, "none");
  }
  const hasLanguage = runs.some((run) => text(run[languageColumn]) !== undefined);
  const groups = new Map<string, Map<string, Array<{ seed: string; score: number }>>>();
  const conditions: string[] = [];
  runs.forEach((run, index) => {
    const language = hasLanguage ? text(run[languageColumn]) : "all";
    if (language === undefined)
      throw new StatsError(fn, `runs[${index}]`, `a "${languageColumn}" column`, "none");
    const condition = text(run[conditionColumn])!;
    const value = score(run[metric]);
    if (value === undefined) {
      throw new StatsError(
        fn,
        `runs[${index}].${metric}`,
        "a finite number or a decimal number string",
        typeof run[metric] === "string" ? JSON.stringify(run[metric]) : String(run[metric]),
      );
    }
    if (!conditions.includes(condition)) conditions.push(condition);
    let byCondition = groups.get(language);
    if (byCondition === undefined) {
      byCondition = new Map();
      groups.set(language, byCondition);
    }
    const list = byCondition.get(condition) ?? [];
    const runSeed = text(run[seedColumn]) ?? String(list.length);
    if (PAIRED.has(test) && list.some((entry) => entry.seed === runSeed)) {
      throw new StatsError(
        fn,
        `runs[${index}].${seedColumn}`,
        `one run per seed for ${condition} in ${language}`,
        `seed ${runSeed} again`,
      );
    }
    list.push({ seed: runSeed, score: value });
    byCondition.set(condition, list);
  });
  const baseline = options.baseline ?? conditions[0]!;
  if (!conditions.includes(baseline)) {
    throw new StatsError(fn, "options.baseline", `one of ${conditions.join(", ")}`, JSON.stringify(baseline));
  }
  const languages = [...groups.keys()];
  const cells: Record<string, Record<string, Cell>> = {};
  for (const language of languages) {
    cells[language] = {};
    for (const [condition, list] of groups.get(language)!) {
      if (list.length < 2) {
        throw new StatsError(
          fn,
          `runs for ${condition} in ${language}`,
          "at least 2 runs (seeds)",
          `${list.length}`,
        );
      }
      const s = summary(list.map((entry) => entry.score));
      cells[language]![condition] = { mean: s.mean, std: s.std, n: s.n };
    }
  }
  const others = conditions.filter((condition) => condition !== baseline);
  const raw: Array<{ language: string; condition: string; value: number }> = [];
  for (const condition of others) {
    for (const language of languages) {
      const byCondition = groups.get(language)!;
      const a = byCondition.get(condition);
      const b = byCondition.get(baseline);
      if (a === undefined || b === undefined) {
        throw new StatsError(
          fn,
          `runs in ${language}`,
          `runs of both ${condition} and ${baseline}`,
          "only one of them",
        );
      }
      raw.push({
        language,
        condition,
        value: runTest(fn, test, a, b, languages.length, seed, language, condition),
      });
    }
  }
  const comparisons: Comparison[] = [];
  for (const condition of others) {
    const rows = raw.filter((entry) => entry.condition === condition);
    const adjusted =
      test === "aso"
        ? rows.map((row) => row.value)
        : adjustPValues(
            rows.map((row) => row.value),
            correction,
          );
    rows.forEach((row, index) => {
      const value = adjusted[index]!;
      comparisons.push({
        language: row.language,
        condition,
        baseline,
        value,
        ...(test === "aso" ? {} : { rawPValue: row.value }),
        significant: value < threshold,
      });
    });
  }
  const note =
    test === "aso"
      ? `ASO (Dror et al. 2019), ε_min of condition vs ${baseline}; * marks ε_min < ${threshold}; confidence 0.95 with Bonferroni over ${languages.length} language${languages.length === 1 ? "" : "s"}.`
      : `${TEST_NAMES[test]} vs ${baseline}; p-values ${correction}-adjusted over ${languages.length} language${languages.length === 1 ? "" : "s"}; * marks p < ${threshold}.`;
  return { metric, test, languages, conditions, baseline, cells, comparisons, note };
}

const TEST_NAMES: Record<ComparisonTest, string> = {
  aso: "ASO",
  "paired-t": "paired t-test",
  welch: "Welch's t-test",
  wilcoxon: "Wilcoxon signed-rank test",
  "mann-whitney": "Mann–Whitney U test",
  permutation: "paired permutation test",
};

function pairBySeed(
  fn: string,
  a: ReadonlyArray<{ seed: string; score: number }>,
  b: ReadonlyArray<{ seed: string; score: number }>,
  language: string,
  condition: string,
): [number[], number[]] {
  const bySeed = new Map(b.map((entry) => [entry.seed, entry.score]));
  const x: number[] = [];
  const y: number[] = [];
  for (const entry of a) {
    const partner = bySeed.get(entry.seed);
    if (partner === undefined) {
      throw new StatsError(
        fn,
        `seed ${entry.seed} of ${condition} in ${language}`,
        "a run with the same seed in the baseline",
        "none",
      );
    }
    x.push(entry.score);
    y.push(partner);
  }
  if (a.length !== b.length) {
    throw new StatsError(
      fn,
      `seeds in ${language}`,
      `the same ${a.length} seeds for ${condition} and the baseline`,
      `${b.length} baseline runs`,
    );
  }
  return [x, y];
}

function runTest(
  fn: string,
  test: ComparisonTest,
  a: ReadonlyArray<{ seed: string; score: number }>,
  b: ReadonlyArray<{ seed: string; score: number }>,
  numComparisons: number,
  seed: number,
  language: string,
  condition: string,
): number {
  const x = a.map((entry) => entry.score);
  const y = b.map((entry) => entry.score);
  switch (test) {
    case "aso":
      return aso(x, y, { numComparisons, seed }).epsilonMin;
    case "welch":
      return welchTTest(x, y).pValue;
    case "mann-whitney":
      return mannWhitneyU(x, y).pValue;
    case "paired-t": {
      const [p, q] = pairBySeed(fn, a, b, language, condition);
      return pairedTTest(p, q).pValue;
    }
    case "wilcoxon": {
      const [p, q] = pairBySeed(fn, a, b, language, condition);
      return wilcoxonSignedRank(p, q, { zeroMethod: "zsplit" }).pValue;
    }
    case "permutation": {
      const [p, q] = pairBySeed(fn, a, b, language, condition);
      return pairedPermutationTest(p, q, { seed }).pValue;
    }
  }
}
