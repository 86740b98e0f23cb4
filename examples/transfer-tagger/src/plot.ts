import { summary } from "@xlt/stats";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { RunRecord } from "./results.js";

/** One point of the sweep plot: the mean test score of a series at a source size. */
export interface SweepPoint {
  /** `hsb ← cs+sk`. */
  readonly series: string;
  /** Source sentences as a multiple of the labelled target size; 0 is the baseline (no source). */
  readonly k: number;
  /** Mean test score over seeds, in points. */
  readonly score: number;
  readonly std: number;
  readonly seeds: number;
}

/** The sweep's points: per target and source, the baseline at k = 0 and transfer at each k. */
export function sweepPoints(records: readonly RunRecord[]): SweepPoint[] {
  const points: SweepPoint[] = [];
  const add = (series: string, k: number, scores: number[]) => {
    if (scores.length === 0) return;
    const s = scores.length > 1 ? summary(scores) : { mean: scores[0] as number, std: 0 };
    points.push({ series, k, score: 100 * s.mean, std: 100 * s.std, seeds: scores.length });
  };
  for (const target of [...new Set(records.map((r) => r.target))]) {
    const baseline = records
      .filter((r) => r.target === target && r.recipe === "baseline")
      .map((r) => r.score);
    const sources = [
      ...new Set(records.filter((r) => r.target === target && r.source).map((r) => r.source as string)),
    ];
    for (const source of sources) {
      const series = `${target} ← ${source}`;
      add(series, 0, baseline);
      const ks = [
        ...new Set(
          records.filter((r) => r.target === target && r.source === source).map((r) => r.k as number),
        ),
      ].sort((a, b) => a - b);
      for (const k of ks)
        add(
          series,
          k,
          records.filter((r) => r.target === target && r.source === source && r.k === k).map((r) => r.score),
        );
    }
  }
  return points;
}

/**
 * The sweep as SVG (Vega-Lite compiled to Vega, rendered headless by `View.toSVG()`, no canvas):
 * mean test score against the source size k, one line and one point mark per (series, k), the
 * baseline at k = 0.
 */
export async function sweepSvg(points: readonly SweepPoint[]): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Test score against source size (k × labelled target sentences; k = 0: baseline)",
    width: 420,
    height: 260,
    data: { values: points.map((p) => ({ ...p })) },
    encoding: {
      x: { field: "k", type: "quantitative", title: "source size k", axis: { tickMinStep: 1 } },
      y: {
        field: "score",
        type: "quantitative",
        title: "test score (%), mean over seeds",
        scale: { zero: false },
      },
      color: { field: "series", type: "nominal", title: "target ← source" },
    },
    layer: [
      { mark: { type: "line" } },
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          tooltip: [
            { field: "series", type: "nominal" },
            { field: "k", type: "quantitative" },
            { field: "score", type: "quantitative", format: ".2f" },
            { field: "std", type: "quantitative", format: ".2f" },
            { field: "seeds", type: "quantitative" },
          ],
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
