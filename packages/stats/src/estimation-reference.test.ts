import { describe, expect, it } from "vitest";
import { bootstrapCI, bootstrapInterval } from "./bootstrap-ci.js";
import { cohensD, hedgesG } from "./effect-size.js";
import { summary } from "./summary.js";
import { loadFixture, relativeError } from "./test-utils/reference.js";
import { mean } from "./validate.js";

interface Reference {
  readonly bootstrapInterval: Array<{
    data: number[];
    thetaHatB: number[];
    confidenceLevel: number;
    bca: [number, number];
    percentile: [number, number];
  }>;
  readonly effectSizes: Array<{
    name: string;
    a: number[];
    b: number[];
    cohensD: number;
    hedgesGApprox: number;
    hedgesG: number;
  }>;
  readonly summary: Array<{
    name: string;
    x: number[];
    confidenceLevel: number;
    mean: number;
    std: number;
    median: number;
    ci: [number, number];
    scipyCi: [number, number];
  }>;
}
const reference = loadFixture<Reference>("scipy-reference.json");
const TOLERANCE = 1e-9;

describe("estimation against scipy / numpy", () => {
  it("BCa and percentile intervals match scipy 1.10's rules on the same bootstrap distribution", () => {
    for (const item of reference.bootstrapInterval) {
      const data = Float64Array.from(item.data);
      const thetaHatB = Float64Array.from(item.thetaHatB);
      const bca = bootstrapInterval(data, mean, thetaHatB, item.confidenceLevel, "bca");
      const percentile = bootstrapInterval(data, mean, thetaHatB, item.confidenceLevel, "percentile");
      expect(relativeError(bca.low, item.bca[0])).toBeLessThan(TOLERANCE);
      expect(relativeError(bca.high, item.bca[1])).toBeLessThan(TOLERANCE);
      expect(relativeError(percentile.low, item.percentile[0])).toBeLessThan(TOLERANCE);
      expect(relativeError(percentile.high, item.percentile[1])).toBeLessThan(TOLERANCE);
    }
  });

  it("Cohen's d and Hedges' g match their textbook formulas", () => {
    for (const item of reference.effectSizes) {
      expect(relativeError(cohensD(item.a, item.b), item.cohensD), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(hedgesG(item.a, item.b), item.hedgesGApprox), item.name).toBeLessThan(TOLERANCE);
      expect(Math.abs(hedgesG(item.a, item.b) - item.hedgesG)).toBeLessThan(
        0.01 * Math.abs(item.hedgesG) + 1e-12,
      );
    }
  });

  it("summary matches numpy's mean/std/median and the t interval (scipy's t.interval to 1e-8)", () => {
    for (const item of reference.summary) {
      const result = summary(item.x, { confidenceLevel: item.confidenceLevel });
      expect(relativeError(result.mean, item.mean)).toBeLessThan(TOLERANCE);
      expect(relativeError(result.std, item.std)).toBeLessThan(TOLERANCE);
      expect(result.median).toBe(item.median);
      expect(relativeError(result.ci[0], item.ci[0]), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.ci[1], item.ci[1]), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.ci[0], item.scipyCi[0]), item.name).toBeLessThan(1e-8);
    }
  });
});

describe("bootstrapCI", () => {
  const x = [0.81, 0.79, 0.84, 0.8, 0.83, 0.78, 0.86, 0.82, 0.8, 0.85];

  it("is seeded and brackets the estimate", () => {
    for (const method of ["bca", "percentile"] as const) {
      const first = bootstrapCI(x, { method, seed: 4, resamples: 2000 });
      expect(bootstrapCI(x, { method, seed: 4, resamples: 2000 })).toEqual(first);
      expect(first.low).toBeLessThan(first.estimate);
      expect(first.high).toBeGreaterThan(first.estimate);
    }
  });

  it("is close to the normal-theory interval of the mean for symmetric data", () => {
    const result = bootstrapCI(x, { method: "percentile", resamples: 20000, seed: 1 });
    const s = summary(x);
    const normalHalfWidth = 1.959964 * (s.std / Math.sqrt(x.length)) * Math.sqrt((x.length - 1) / x.length);
    expect(result.high - result.low).toBeCloseTo(2 * normalHalfWidth, 2);
  });

  it("names bad input", () => {
    expect(() => bootstrapCI([1], {})).toThrow("bootstrapCI: x: expected at least 2 values, got 1");
    expect(() => bootstrapCI([1, 1, 1])).toThrow(
      "bootstrapCI: x: expected a bootstrap distribution with more than one value (BCa), got a degenerate one",
    );
    expect(() => cohensD([1, 1], [2, 2])).toThrow(
      "cohensD: b: expected samples that are not both constant, got zero pooled variance",
    );
    expect(() => summary([])).toThrow("summary: x: expected at least 1 value, got 0");
  });
});
