export { ADJUST_METHODS, type AdjustMethod, adjustPValues } from "./adjust.js";
export { normalCdf, normalQuantile, normalSf, tCdf, tQuantile } from "./distributions.js";
export { StatsError } from "./errors.js";
export { type MannWhitneyOptions, type MannWhitneyResult, mannWhitneyU } from "./mann-whitney.js";
export { type PermutationOptions, type PermutationResult, pairedPermutationTest } from "./permutation.js";
export { Mt19937 } from "./random.js";
export {
  type PairedTTestResult,
  pairedTTest,
  type TTestOptions,
  type WelchTTestResult,
  welchTTest,
} from "./t-test.js";
export type { Alternative } from "./validate.js";
export {
  type WilcoxonOptions,
  type WilcoxonResult,
  wilcoxonSignedRank,
  type ZeroMethod,
} from "./wilcoxon.js";
