import { aso } from "@xlt/stats";
import { describe, expect, it } from "vitest";
import type { RunRecord } from "./plan.js";
import { report } from "./report.js";

const base = {
  pseudoPerplexity: null,
  tokens: 1000,
  total: 1_000_000,
  steps: 20,
  seconds: 5,
} as const;

/** Two seeds of full fine-tuning and LoRA on both tasks, and the unadapted encoder. */
const records: RunRecord[] = [
  {
    ...base,
    method: "none",
    task: "lm",
    seed: 0,
    score: 900,
    pseudoPerplexity: 1200,
    trainable: 0,
    frozenBytes: 4_000_000,
    steps: 0,
    stepMs: null,
    stepMemoryMiB: null,
  },
  ...[1, 2].flatMap((seed): RunRecord[] => [
    {
      ...base,
      method: "full",
      task: "lm",
      seed,
      score: seed === 1 ? 100 : 110,
      pseudoPerplexity: seed === 1 ? 130 : 150,
      trainable: 1_000_000,
      frozenBytes: 0,
      stepMs: 40 + seed,
      stepMemoryMiB: 20 + seed,
    },
    {
      ...base,
      method: "full",
      task: "upos",
      seed,
      score: seed === 1 ? 0.8 : 0.82,
      trainable: 1_000_000,
      frozenBytes: 0,
      stepMs: 30,
      stepMemoryMiB: 10,
    },
    {
      ...base,
      method: "lora",
      task: "lm",
      seed,
      score: seed === 1 ? 90 : 94,
      pseudoPerplexity: 120,
      trainable: 10_000,
      frozenBytes: 3_960_000,
      stepMs: 20,
      stepMemoryMiB: 5,
    },
    {
      ...base,
      method: "lora",
      task: "upos",
      seed,
      score: seed === 1 ? 0.7 : 0.72,
      trainable: 12_000,
      frozenBytes: 3_960_000,
      stepMs: 15,
      stepMemoryMiB: 4,
    },
  ]),
];

describe("report", () => {
  it("shows each method's parameters, scores over seeds, ASO against full fine-tuning, memory and time", () => {
    const { markdown, latex, table } = report(records, ["full", "lora"]);
    const lines = markdown.split("\n");
    expect(lines[0]).toBe(
      "| Method | Trainable (LM) | Trainable (UPOS) | Weights + AdamW state, MiB (LM / UPOS) | PPL ↓ | PPPL ↓ | UPOS accuracy, % ↑ | Step memory, MiB (LM / UPOS) | ms / step (LM / UPOS) |",
    );
    expect(lines[2]).toBe("| pretrained, not adapted | – | – | 3.8 | 900.0 | 1200.0 | – | – | – |");
    // full: PPL 105 ± 7.07 (std of 100, 110), accuracy 81 ± 1.41; 12 bytes per trainable parameter.
    expect(lines[3]).toBe(
      "| full fine-tuning | 1,000,000 (100%) | 1,000,000 (100%) | 11.4 / 11.4 | 105.0 ± 7.1 | 140.0 ± 14.1 | 81.0 ± 1.4 | 21.5 / 10.0 | 42 / 30 |",
    );
    const lmEpsilon = aso([-90, -94], [-100, -110], { numComparisons: 2, seed: 0 }).epsilonMin;
    const uposEpsilon = aso([0.7, 0.72], [0.8, 0.82], { numComparisons: 2, seed: 0 }).epsilonMin;
    expect(lmEpsilon).toBeLessThan(0.5);
    expect(uposEpsilon).toBeGreaterThan(0.5);
    expect(lines[4]).toBe(
      `| LoRA | 10,000 (1.00%) | 12,000 (1.20%) | 3.9 / 3.9 | 92.0 ± 2.8 (ε = ${lmEpsilon.toFixed(3)})* | 120.0 ± 0.0 | 71.0 ± 1.4 (ε = ${uposEpsilon.toFixed(3)}) | 5.0 / 4.0 | 20 / 15 |`,
    );
    expect(
      table.comparisons.map((comparison) => [
        comparison.condition,
        comparison.language,
        comparison.significant,
      ]),
    ).toEqual([
      ["lora", "lm", true],
      ["lora", "upos", false],
    ]);
    expect(markdown).toContain("Faroese, 2 seeds per method and task");
    expect(markdown).toContain("N = 1,000 subword tokens");
    expect(latex).toContain("\\toprule");
    expect(latex).toContain(`92.0 $\\pm$ 2.8 ($\\varepsilon$ = ${lmEpsilon.toFixed(3)})$^{*}$`);
    expect(latex).toContain("$\\varepsilon_{\\min}$ < 0.5".replace("<", "$<$"));
    expect(latex).toContain("UPOS accuracy, \\% $\\uparrow$");
  });

  it("needs records of every compared method on both tasks", () => {
    expect(() => report(records.slice(0, 1), ["full"])).toThrow(
      "report: records: expected records of the compared methods, got none",
    );
    const noLoraTagging = records.filter((record) => !(record.method === "lora" && record.task === "upos"));
    expect(() => report(noLoraTagging, ["full", "lora"])).toThrow("compareConditions");
    const noLora = records.filter((record) => record.method !== "lora");
    expect(() => report(noLora, ["full", "lora"])).toThrow(
      "report: records: expected runs of lora on both tasks, got 0 lm, 0 upos",
    );
  });
});
