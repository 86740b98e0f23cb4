import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { accuracyScore } from "./accuracy.js";
import { type ClassificationReport, classificationReport } from "./report.js";
import type { Scheme } from "./schemes.js";

interface ReferenceRow {
  readonly precision: number | null;
  readonly recall: number | null;
  readonly "f1-score": number | null;
  readonly support: number;
}
interface ReferenceCase {
  readonly scheme: Scheme;
  readonly yTrue: string[][];
  readonly yPred: string[][];
  readonly accuracy: number;
  readonly default: Record<string, ReferenceRow>;
  readonly strict: Record<string, ReferenceRow>;
}

// Python writes NaN as a bare token; JSON.parse does not accept it, so it becomes null here.
const text = readFileSync(new URL("../fixtures/seqeval-reference.json", import.meta.url), "utf8");
const cases: ReferenceCase[] = JSON.parse(text.replace(/\bNaN\b/g, "null")).cases;

function relativeError(actual: number, expected: number | null): number {
  if (expected === null) return Number.isNaN(actual) ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
}

function worstError(report: ClassificationReport, reference: Record<string, ReferenceRow>): number {
  expect(Object.keys(report).sort()).toEqual(Object.keys(reference).sort());
  let worst = 0;
  for (const [name, row] of Object.entries(reference)) {
    const ours = report[name]!;
    worst = Math.max(
      worst,
      relativeError(ours.precision, row.precision),
      relativeError(ours.recall, row.recall),
      relativeError(ours.f1, row["f1-score"]),
      relativeError(ours.support, row.support),
    );
  }
  return worst;
}

describe("seqeval 1.2.2 reference (300 cases)", () => {
  it("has all 300 cases over the six schemes", () => {
    expect(cases).toHaveLength(300);
    expect(new Set(cases.map((item) => item.scheme)).size).toBe(6);
  });

  it("matches the default (lenient) classification report to 1e-9", () => {
    let worst = 0;
    for (const item of cases) {
      worst = Math.max(worst, worstError(classificationReport(item.yTrue, item.yPred), item.default));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it("matches the strict classification report with the case's scheme to 1e-9", () => {
    let worst = 0;
    for (const item of cases) {
      const report = classificationReport(item.yTrue, item.yPred, { mode: "strict", scheme: item.scheme });
      worst = Math.max(worst, worstError(report, item.strict));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it("matches accuracy_score to 1e-9", () => {
    for (const item of cases) {
      expect(relativeError(accuracyScore(item.yTrue, item.yPred), item.accuracy)).toBeLessThan(1e-9);
    }
  });
});
