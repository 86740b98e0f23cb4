import { type ComparisonTable, compareConditions, escapeLatex, type Run, summary } from "@xlt/stats";
import { CompareError } from "./errors.js";
import { EVALUATION_MASKING } from "./lm.js";
import { median } from "./measure.js";
import { METHOD_SETTINGS, type Method, type Task } from "./methods.js";
import type { RunRecord } from "./plan.js";
import { PSEUDO_PERPLEXITY_SENTENCES } from "./run.js";

/** The comparison's tables: Markdown and LaTeX (booktabs), and the ASO comparison they show. */
export interface Report {
  readonly table: ComparisonTable;
  readonly markdown: string;
  readonly latex: string;
}

const MiB = 1024 * 1024;

/** Bytes a run's weights and AdamW state take in float32: frozen weights as stored, trainable ones ×3 (value, m, v). */
const stateBytes = (record: RunRecord) => record.frozenBytes + 12 * record.trainable;

const integer = (value: number) => value.toLocaleString("en-US");
const fixed = (value: number, digits: number) => value.toFixed(digits);
const percent = (share: number) => `${share >= 0.1 ? (100 * share).toFixed(0) : (100 * share).toFixed(2)}%`;

interface Row {
  readonly method: string;
  readonly cells: readonly string[];
}

/**
 * Builds the table from the records: per method, trainable parameters (count and share of all
 * parameters) for each task, float32 bytes of weights plus AdamW state, held-out perplexity and
 * pseudo-perplexity, UPOS accuracy (mean ± std over seeds), each method's ASO ε_min against full
 * fine-tuning on both tasks (`compareConditions` of `@xlt/stats`: ε_min < 0.5 at confidence 0.95,
 * Bonferroni over the two tasks; perplexity compared as its negative, so a small ε_min means lower
 * perplexity), and medians over runs of the peak memory growth while training and of the time per
 * step. The `none` record (the encoder before adaptation) is a row of its own, outside the tests.
 * Needs at least two seeds of every method on both tasks.
 */
export function report(records: readonly RunRecord[], methods: readonly Method[]): Report {
  const fn = "report";
  const adapted = records.filter((record) => record.method !== "none" && methods.includes(record.method));
  if (adapted.length === 0) throw new CompareError(fn, "records", "records of the compared methods", "none");
  const runs: Run[] = [...adapted]
    .sort((a, b) => methods.indexOf(a.method as Method) - methods.indexOf(b.method as Method))
    .map((record) => ({
      condition: record.method,
      language: record.task,
      seed: record.seed,
      score: record.task === "lm" ? -record.score : record.score,
    }));
  const table = compareConditions(runs, { metric: "score", baseline: "full", test: "aso", seed: 0 });
  const of = (method: Method, task: Task) =>
    adapted.filter((record) => record.method === method && record.task === task);
  const epsilon = (method: Method, task: Task) => {
    const comparison = table.comparisons.find(
      (entry) => entry.condition === method && entry.language === task,
    );
    return comparison === undefined
      ? ""
      : ` (ε = ${fixed(comparison.value, 3)})${comparison.significant ? "*" : ""}`;
  };
  const meanStd = (values: readonly number[], scale: number, digits: number) => {
    const s = summary(values);
    return `${fixed(s.mean * scale, digits)} ± ${fixed(s.std * scale, digits)}`;
  };
  const pair = (method: Method, pick: (record: RunRecord) => number | null, digits: number) =>
    (["lm", "upos"] as const)
      .map((task) => {
        const values = of(method, task)
          .map(pick)
          .filter((value): value is number => value !== null);
        return values.length === 0 ? "–" : fixed(median(values), digits);
      })
      .join(" / ");
  const rows: Row[] = [];
  const before = records.find((record) => record.method === "none");
  if (before)
    rows.push({
      method: "pretrained, not adapted",
      cells: [
        "–",
        "–",
        fixed(stateBytes(before) / MiB, 1),
        fixed(before.score, 1),
        before.pseudoPerplexity === null ? "–" : fixed(before.pseudoPerplexity, 1),
        "–",
        "–",
        "–",
      ],
    });
  for (const method of methods) {
    const lm = of(method, "lm");
    const upos = of(method, "upos");
    const first = { lm: lm[0], upos: upos[0] };
    if (!first.lm || !first.upos)
      throw new CompareError(
        fn,
        "records",
        `runs of ${method} on both tasks`,
        `${lm.length} lm, ${upos.length} upos`,
      );
    const trainable = (record: RunRecord) =>
      `${integer(record.trainable)} (${percent(record.trainable / record.total)})`;
    const pseudo = lm
      .map((record) => record.pseudoPerplexity)
      .filter((value): value is number => value !== null);
    rows.push({
      method: METHOD_SETTINGS[method].label,
      cells: [
        trainable(first.lm),
        trainable(first.upos),
        `${fixed(stateBytes(first.lm) / MiB, 1)} / ${fixed(stateBytes(first.upos) / MiB, 1)}`,
        `${meanStd(
          lm.map((record) => record.score),
          1,
          1,
        )}${epsilon(method, "lm")}`,
        pseudo.length === lm.length ? meanStd(pseudo, 1, 1) : "–",
        `${meanStd(
          upos.map((record) => record.score),
          100,
          1,
        )}${epsilon(method, "upos")}`,
        pair(method, (record) => record.stepMemoryMiB, 1),
        pair(method, (record) => record.stepMs, 0),
      ],
    });
  }
  const seeds = Math.min(
    ...methods.flatMap((method) => [of(method, "lm").length, of(method, "upos").length]),
  );
  const lmTokens = records.find((record) => record.task === "lm")?.tokens ?? 0;
  const uposWords = records.find((record) => record.task === "upos")?.tokens ?? 0;
  const note = [
    `Faroese, ${seeds} seeds per method and task (mean ± std over seeds).`,
    `PPL: held-out masked-LM perplexity, exp(Σ NLL / N) over the N = ${integer(lmTokens)} subword tokens of a fixed masking (${EVALUATION_MASKING.passes} passes of ${100 * EVALUATION_MASKING.probability}% of the tokens, each replaced by the mask token; the same for every run; special tokens, [UNK] and padding never predicted).`,
    `PPPL: pseudo-perplexity (every token masked in turn) of the first ${PSEUDO_PERPLEXITY_SENTENCES} held-out sentences.`,
    `UPOS: word accuracy on UD fo_farpahc test (${integer(uposWords)} words, each predicted at its first subword).`,
    "ε: ASO (Dror et al. 2019) ε_min of the method against full fine-tuning (perplexity compared as its negative: a small ε_min means lower perplexity); * marks ε_min < 0.5; confidence 0.95 with Bonferroni over the 2 tasks.",
    "Trainable: trainable elements (share of all, NF4 weights included) on the LM and the UPOS model (the latter with its classifier).",
    "Weights + AdamW state: float32 trainable weights and their two moments plus the frozen weights as the session stores them (NF4 packed).",
    "Step memory: median over runs of the peak resident-set growth while training (/proc/self/status VmHWM after resetting it, minus the resident set before the first step).",
    "ms / step: median over runs of each run's median training-step time.",
  ].join(" ");
  const header = [
    "Method",
    "Trainable (LM)",
    "Trainable (UPOS)",
    "Weights + AdamW state, MiB (LM / UPOS)",
    "PPL ↓",
    "PPPL ↓",
    "UPOS accuracy, % ↑",
    "Step memory, MiB (LM / UPOS)",
    "ms / step (LM / UPOS)",
  ];
  return { table, markdown: markdown(header, rows, note), latex: latex(header, rows, note) };
}

function markdown(header: readonly string[], rows: readonly Row[], note: string): string {
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell) => cell.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [
    line(header),
    line(header.map((_, index) => (index === 0 ? "---" : "---:"))),
    ...rows.map((row) => line([row.method, ...row.cells])),
    "",
    note,
    "",
  ].join("\n");
}

/** Text in LaTeX: ε_min, ε, Σ, ±, < and arrows as math, the significance star as a superscript. */
function latexCell(cell: string): string {
  return escapeLatex(cell)
    .replace(/ε\\_min/g, "$\\varepsilon_{\\min}$")
    .replace(/ε/g, "$\\varepsilon$")
    .replace(/Σ/g, "$\\Sigma$")
    .replace(/ ± /g, " $\\pm$ ")
    .replace(/ < /g, " $<$ ")
    .replace(/\)\*/g, ")$^{*}$")
    .replace(/–/g, "--")
    .replace(/↓/g, "$\\downarrow$")
    .replace(/↑/g, "$\\uparrow$");
}

function latex(header: readonly string[], rows: readonly Row[], note: string): string {
  return [
    "\\begin{table}[t]",
    "\\centering",
    "\\small",
    `\\begin{tabular}{l${"r".repeat(header.length - 1)}}`,
    "\\toprule",
    `${header.map(latexCell).join(" & ")} \\\\`,
    "\\midrule",
    ...rows.map((row) => `${[row.method, ...row.cells].map(latexCell).join(" & ")} \\\\`),
    "\\bottomrule",
    "\\end{tabular}",
    `\\caption{${latexCell(note)}}`,
    "\\label{tab:peft-compare}",
    "\\end{table}",
    "",
  ].join("\n");
}
