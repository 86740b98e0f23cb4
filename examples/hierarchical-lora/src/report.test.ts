import { describe, expect, it } from "vitest";
import { METHODS } from "./methods.js";
import type { RunRecord } from "./plan.js";
import { report } from "./report.js";

/** Five seeds in two languages: HQL (phylogenetic) clearly above per-language LoRAs, the others below. */
const offsets: Record<RunRecord["method"], number> = {
  "per-language": 0,
  multilingual: -0.05,
  "hql-phylogenetic": 0.1,
  "hql-distant": -0.02,
};
const records: RunRecord[] = METHODS.flatMap((method) =>
  [1, 2, 3, 4, 5].flatMap((seed) =>
    ["fo", "hsb"].map((language) => ({
      method,
      seed,
      language,
      score: 0.6 + offsets[method] + 0.01 * seed + (language === "fo" ? 0.05 : 0),
      steps: method === "multilingual" ? 60 : 20,
      seconds: 120,
    })),
  ),
);

describe("report", () => {
  it("compares every method with per-language LoRAs by ASO in each language, with a cost summary", () => {
    const { table, markdown, latex } = report(records);
    expect(table.baseline).toBe("per-language");
    expect(table.conditions).toEqual([...METHODS]);
    expect(table.languages).toEqual(["fo", "hsb"]);
    const epsilon = (condition: string, language: string) =>
      table.comparisons.find((c) => c.condition === condition && c.language === language);
    // Every seed of hql-phylogenetic beats every seed of the baseline: ε_min 0, significant.
    expect(epsilon("hql-phylogenetic", "fo")).toMatchObject({ value: 0, significant: true });
    // Every seed of multilingual is below every seed of the baseline: ε_min near 1, not significant.
    expect(epsilon("multilingual", "hsb")?.value).toBeGreaterThan(0.99);
    expect(epsilon("multilingual", "hsb")?.significant).toBe(false);
    // fo: per-language 0.6 + 0.05 + 0.03 on average = 68.0 ± 1.6 (seeds 1…5 add 0.01 each).
    expect(markdown).toContain("| fo | 68.0 ± 1.6 |");
    expect(markdown).toContain("| hql-phylogenetic | 75.5 ± 1.6 | 20 | 2.0 |");
    expect(markdown).toContain("| multilingual | 60.5 ± 1.6 | 60 | 2.0 |");
    expect(latex).toContain("\\label{tab:hierarchical-lora}");
    // The two trees against each other: phylogenetic (0.1 above the baseline) over distant (0.02 below).
    expect(report(records).trees?.conditions).toEqual(["hql-distant", "hql-phylogenetic"]);
    expect(report(records).trees?.comparisons.map((c) => [c.language, c.value, c.significant])).toEqual([
      ["fo", 0, true],
      ["hsb", 0, true],
    ]);
    expect(markdown).toContain("## The two trees");
    expect(latex).toContain("\\label{tab:hierarchical-lora-trees}");
    // Without both trees' runs there is no such table.
    expect(report(records.filter((r) => r.method !== "hql-distant")).trees).toBeNull();
  });

  it("needs records", () => {
    expect(() => report([])).toThrowError("report: records: expected at least one record, got none");
  });
});
