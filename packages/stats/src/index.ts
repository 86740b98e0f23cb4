export { ADJUST_METHODS, type AdjustMethod, adjustPValues } from "./adjust.js";
export {
  type AsoOptions,
  type AsoResult,
  aso,
  type MultiAsoOptions,
  type MultiAsoResult,
  multiAso,
  violationRatio,
} from "./aso.js";
export {
  type BootstrapCIOptions,
  type BootstrapCIResult,
  type BootstrapMethod,
  bootstrapCI,
  bootstrapInterval,
} from "./bootstrap-ci.js";
export {
  type Cell,
  COMPARISON_TESTS,
  type CompareOptions,
  type Comparison,
  type ComparisonTable,
  type ComparisonTest,
  compareConditions,
} from "./compare.js";
export { normalCdf, normalQuantile, normalSf, tCdf, tQuantile } from "./distributions.js";
export { cohensD, hedgesG } from "./effect-size.js";
export { StatsError } from "./errors.js";
export { type MannWhitneyOptions, type MannWhitneyResult, mannWhitneyU } from "./mann-whitney.js";
export { type PermutationOptions, type PermutationResult, pairedPermutationTest } from "./permutation.js";
export { Mt19937 } from "./random.js";
export {
  approximateRandomization,
  type BootstrapOptions,
  type BootstrapResult,
  type CorpusMetric,
  microF1,
  pairedBootstrap,
  type ResamplingOptions,
  type ResamplingResult,
  type SentenceMatrix,
} from "./resampling.js";
export { parseCsv, parseJsonl, type Run } from "./runs.js";
export { type Summary, summary } from "./summary.js";
export {
  type PairedTTestResult,
  pairedTTest,
  type TTestOptions,
  type WelchTTestResult,
  welchTTest,
} from "./t-test.js";
export { escapeLatex, type TableOptions, toLatex, toMarkdown } from "./table.js";
export type { Alternative } from "./validate.js";
export {
  type WilcoxonOptions,
  type WilcoxonResult,
  wilcoxonSignedRank,
  type ZeroMethod,
} from "./wilcoxon.js";
