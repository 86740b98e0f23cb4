import { aso, pairedBootstrap } from "@xlt/stats";
import { describe, expect, it } from "vitest";
import { scoreFromTotals } from "./model.js";
import { sweepPoints, sweepSvg } from "./plot.js";
import { BOOTSTRAP_RESAMPLES, buildReport } from "./report.js";
import type { RunRecord } from "./results.js";
import { record } from "./test-utils/records.js";

// Two targets, three seeds: baseline, transfer k=1 and k=2 (sv only), pseudo.
function records(): RunRecord[] {
  const out: RunRecord[] = [];
  for (const target of ["hsb", "sv"] as const)
    for (const seed of [1, 2, 3]) {
      const base = { target, seed, task: target === "hsb" ? ("pos" as const) : ("ner" as const) };
      const totals = (shift: number) =>
        Array.from({ length: 12 }, (_, s) =>
          target === "hsb"
            ? [Math.min(10, 6 + ((s + seed + shift) % 5)), 10]
            : [(s + shift + seed) % 3, 2, 2],
        );
      const add = (
        recipe: RunRecord["recipe"],
        source: string | null,
        k: number | null,
        score: number,
        shift: number,
      ) =>
        out.push(
          record({
            ...base,
            key: `${target}-${recipe}${k ? `-k${k}` : ""}-seed${seed}`,
            recipe,
            source,
            k,
            score,
            sentenceTotals: totals(shift),
          }),
        );
      add("baseline", null, null, 0.7 + 0.01 * seed, 0);
      add("transfer", target === "hsb" ? "cs+sk" : "da", 1, 0.75 + 0.01 * seed, 1);
      if (target === "sv") add("transfer", "da", 2, 0.78 + 0.01 * seed, 2);
      add("pseudo", null, null, 0.69 + 0.01 * seed, 0);
    }
  return out;
}

describe("report", () => {
  it("ASO table over the conditions every target has, with Bonferroni over the targets", () => {
    const report = buildReport(records());
    const lines = report.markdown.split("\n");
    expect(lines[0]).toBe("| Language | baseline | transfer k=1 | pseudo |");
    // ASO of transfer vs baseline in hsb, as @xlt/stats computes it with 2 comparisons.
    const epsilon = aso([0.76, 0.77, 0.78], [0.71, 0.72, 0.73], { numComparisons: 2, seed: 0 }).epsilonMin;
    expect(lines[2]).toBe(
      `| hsb POS ← cs+sk | 72.0 ± 1.0 | 77.0 ± 1.0* (ε = ${epsilon.toFixed(3)}) | 71.0 ± 1.0 (ε = 1.000) |`,
    );
    expect(report.markdown).toContain("Bonferroni over 2 languages");
    expect(report.latex).toContain("\\toprule");
    expect(report.latex).toContain("\\bottomrule");
    expect(report.latex).toContain("hsb POS $\\leftarrow$ cs+sk");
    expect(report.latex).not.toContain("←");
    // The sweep table has k = 2 for sv only.
    expect(report.markdown).toContain("| sv ← da | 72.0 ± 1.0 | 77.0 ± 1.0 | 80.0 ± 1.0 |");
    expect(report.markdown).toContain("| hsb ← cs+sk | 72.0 ± 1.0 | 77.0 ± 1.0 | – |");
  });

  it("paired bootstrap of seed-summed sentence totals, Bonferroni over the targets", () => {
    const all = records();
    const report = buildReport(all);
    const sv = report.paired.find((p) => p.target === "sv" && p.condition === "transfer k=1");
    const summed = (recipe: string) => {
      const runs = all.filter((r) => r.target === "sv" && r.recipe === recipe && (r.k ?? 1) === 1);
      const data = new Float64Array(12 * 3);
      for (const r of runs)
        for (const [row, values] of r.sentenceTotals.entries())
          for (const [c, v] of values.entries()) data[row * 3 + c] = (data[row * 3 + c] ?? 0) + v;
      return { data, dims: [12, 3] as const };
    };
    const expected = pairedBootstrap(summed("transfer"), summed("baseline"), {
      metric: (t) => scoreFromTotals("ner", t),
      resamples: BOOTSTRAP_RESAMPLES,
      seed: 0,
    });
    expect(sv?.seeds).toBe(3);
    expect(sv?.difference).toBeCloseTo(expected.difference, 12);
    expect(sv?.pValue).toBe(expected.pValue);
    expect(sv?.adjusted).toBe(Math.min(1, 2 * expected.pValue));
    expect(report.paired.map((p) => `${p.target} ${p.condition}`)).toEqual([
      "hsb transfer k=1",
      "sv transfer k=1",
      "hsb pseudo",
      "sv pseudo",
    ]);
  });

  it("sweep SVG: one point mark per (series, k), baseline at k = 0", async () => {
    const points = sweepPoints(records());
    expect(points.map((p) => `${p.series} ${p.k} ${p.score.toFixed(1)}`)).toEqual([
      "hsb ← cs+sk 0 72.0",
      "hsb ← cs+sk 1 77.0",
      "sv ← da 0 72.0",
      "sv ← da 1 77.0",
      "sv ← da 2 80.0",
    ]);
    const svg = await sweepSvg(points);
    expect(svg.startsWith("<svg")).toBe(true);
    const symbols = /<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? "";
    expect(symbols.match(/<path /g)).toHaveLength(points.length);
    // One line per series (Vega draws each in its own group).
    expect(svg.match(/<g class="mark-line role-mark/g)).toHaveLength(2);
    expect(svg).toContain("hsb ← cs+sk");
  });
});
