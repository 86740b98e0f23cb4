import { describe, expect, it } from "vitest";
import { type AdjustMethod, adjustPValues } from "./adjust.js";
import { mannWhitneyU } from "./mann-whitney.js";
import { pairedPermutationTest } from "./permutation.js";
import { Mt19937 } from "./random.js";
import { pairedTTest, welchTTest } from "./t-test.js";
import { type FixtureNumber, loadFixture, relativeError } from "./test-utils/reference.js";
import type { Alternative } from "./validate.js";
import { wilcoxonSignedRank, type ZeroMethod } from "./wilcoxon.js";

interface Case {
  readonly name: string;
  readonly a: number[];
  readonly b: number[];
  readonly alternative: Alternative;
  readonly statistic: FixtureNumber;
  readonly pValue: FixtureNumber;
}
interface Reference {
  readonly pairedTTest: Array<
    Case & {
      confidenceLevel: number;
      df: number;
      ci: [FixtureNumber, FixtureNumber];
      scipyCi: [FixtureNumber, FixtureNumber];
    }
  >;
  readonly welchTTest: Array<Case & { df: number }>;
  readonly wilcoxonSignedRank: Array<
    Case & { zeroMethod: ZeroMethod; correction: boolean; method: "auto" | "exact" | "approx" }
  >;
  readonly mannWhitneyU: Array<Case & { useContinuity: boolean; method: "auto" | "exact" | "asymptotic" }>;
  readonly pairedPermutationTest: Case[];
  readonly adjustPValues: Array<{ p: number[]; method: AdjustMethod; adjusted: FixtureNumber[] }>;
  readonly mt19937: { seed: number; uniform: number[] };
}

const reference = loadFixture<Reference>("scipy-reference.json");
const TOLERANCE = 1e-9;

describe("scipy 1.10 / statsmodels 0.13 reference values", () => {
  it("pairedTTest matches ttest_rel and its confidence_interval", () => {
    expect(reference.pairedTTest.length).toBeGreaterThan(30);
    for (const item of reference.pairedTTest) {
      const result = pairedTTest(item.a, item.b, {
        alternative: item.alternative,
        confidenceLevel: item.confidenceLevel,
      });
      expect(relativeError(result.statistic, item.statistic), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.pValue, item.pValue), item.name).toBeLessThan(TOLERANCE);
      expect(result.df).toBe(item.df);
      // `ci` uses a 40-digit t quantile; scipy's own stdtrit is only good to ~1e-9, hence 1e-8 against it.
      expect(relativeError(result.ci[0], item.ci[0]), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.ci[1], item.ci[1]), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.ci[0], item.scipyCi[0]), item.name).toBeLessThan(1e-8);
      expect(relativeError(result.ci[1], item.scipyCi[1]), item.name).toBeLessThan(1e-8);
    }
  });

  it("welchTTest matches ttest_ind(equal_var=False)", () => {
    for (const item of reference.welchTTest) {
      const result = welchTTest(item.a, item.b, { alternative: item.alternative });
      expect(relativeError(result.statistic, item.statistic), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.pValue, item.pValue), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.df, item.df), item.name).toBeLessThan(TOLERANCE);
    }
  });

  it("wilcoxonSignedRank matches wilcoxon for every zero method, correction, method and alternative", () => {
    expect(reference.wilcoxonSignedRank.length).toBeGreaterThan(400);
    for (const item of reference.wilcoxonSignedRank) {
      const label = `${item.name} ${item.alternative} ${item.zeroMethod} ${item.correction} ${item.method}`;
      const result = wilcoxonSignedRank(item.a, item.b, item);
      expect(relativeError(result.statistic, item.statistic), label).toBeLessThan(TOLERANCE);
      expect(relativeError(result.pValue, item.pValue), label).toBeLessThan(TOLERANCE);
    }
  });

  it("mannWhitneyU matches mannwhitneyu for every method, continuity and alternative", () => {
    for (const item of reference.mannWhitneyU) {
      const label = `${item.name} ${item.alternative} ${item.useContinuity} ${item.method}`;
      const result = mannWhitneyU(item.a, item.b, item);
      expect(relativeError(result.statistic, item.statistic), label).toBeLessThan(TOLERANCE);
      expect(relativeError(result.pValue, item.pValue), label).toBeLessThan(TOLERANCE);
    }
  });

  it("pairedPermutationTest (exact) matches permutation_test with all 2^n sign flips", () => {
    for (const item of reference.pairedPermutationTest) {
      const result = pairedPermutationTest(item.a, item.b, { alternative: item.alternative, exact: true });
      expect(relativeError(result.statistic, item.statistic), item.name).toBeLessThan(TOLERANCE);
      expect(relativeError(result.pValue, item.pValue), `${item.name} ${item.alternative}`).toBeLessThan(
        TOLERANCE,
      );
    }
  });

  it("adjustPValues matches multipletests for all eight methods", () => {
    for (const item of reference.adjustPValues) {
      const adjusted = adjustPValues(item.p, item.method);
      item.adjusted.forEach((expected, i) => {
        expect(relativeError(adjusted[i]!, expected), `${item.method} ${i}`).toBeLessThan(TOLERANCE);
      });
    }
  });

  it("Mt19937 reproduces numpy's legacy np.random.seed / uniform stream bit for bit", () => {
    const random = new Mt19937(reference.mt19937.seed);
    for (const expected of reference.mt19937.uniform) expect(random.random()).toBe(expected);
  });
});
