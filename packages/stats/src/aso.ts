import { normalQuantile } from "./distributions.js";
import { StatsError } from "./errors.js";
import { Mt19937 } from "./random.js";
import {
  checkBoolean,
  checkInteger,
  checkProbability,
  checkSample,
  pairwiseSum,
  variance,
} from "./validate.js";

export interface AsoOptions {
  /** Confidence level 1 − α of the upper bound; 0.95 by default (deep-significance ≥ 1.2.4 meaning). */
  readonly confidenceLevel?: number;
  /** Number of comparisons the test is one of: raises the level to `c + (1 − c) / numComparisons`. */
  readonly numComparisons?: number;
  /** Bootstrap iterations for σ̂; 1000 by default. */
  readonly numBootstrap?: number;
  /** Step of the quantile grid t = dt, 2dt, … < 1; 0.005 by default. */
  readonly dt?: number;
  /** Iteration i (0-based) draws from numpy's MT19937 seeded with `seed + i + 1`, as deep-significance does; 0 by default. */
  readonly seed?: number;
}

export interface AsoResult {
  /** Upper bound ε_min of the violation ratio at the chosen confidence; A is better than B when it is < 0.5 (strict: < 0.2). */
  readonly epsilonMin: number;
  /** The violation ratio ε_W2(F_A, F_B) of the scores themselves. */
  readonly violationRatio: number;
}

/** Empirical quantile grid: for each t on the grid, the index into the sorted sample (deep-significance's quantile function). */
function gridIndices(n: number, grid: Float64Array): Int32Array {
  const indices = new Int32Array(grid.length);
  for (let i = 0; i < grid.length; i++) {
    const index = Math.ceil(n * grid[i]!);
    indices[i] = Math.min(n - 1, Math.max(0, index - 1));
  }
  return indices;
}

/** t = dt, 2dt, … as numpy's `np.arange(dt, 1, dt)` computes them. */
function makeGrid(dt: number): Float64Array {
  const length = Math.ceil((1 - dt) / dt);
  const grid = new Float64Array(length);
  for (let i = 0; i < length; i++) grid[i] = dt + i * dt;
  return grid;
}

/** Work buffers for repeated violation ratios on one grid. */
class ViolationRatio {
  private readonly squared: Float64Array;
  private readonly violated: Float64Array;
  private readonly indicesA: Int32Array;
  private readonly indicesB: Int32Array;

  constructor(
    readonly sizeA: number,
    readonly sizeB: number,
    readonly dt: number,
  ) {
    const grid = makeGrid(dt);
    this.indicesA = gridIndices(sizeA, grid);
    this.indicesB = gridIndices(sizeB, grid);
    this.squared = new Float64Array(grid.length);
    this.violated = new Float64Array(grid.length);
  }

  /**
   * ε_W2 = ∫_{F⁻¹ < G⁻¹} (G⁻¹ − F⁻¹)² dt / ∫ (G⁻¹ − F⁻¹)² dt on the grid (del Barrio et al. 2018, Dror et al.
   * 2019 eqs. 4–5), summed the way deep-significance 1.2 sums it (numpy pairwise sums; the violation
   * integral skips the first grid point). 0.5 when the two quantile functions coincide.
   */
  compute(sortedA: Float64Array, sortedB: Float64Array): number {
    const { squared, violated, indicesA, indicesB, dt } = this;
    for (let i = 0; i < squared.length; i++) {
      const f = sortedA[indicesA[i]!]!;
      const g = sortedB[indicesB[i]!]!;
      const diff = g - f;
      squared[i] = diff * diff * dt;
      violated[i] = f >= g ? 0 : squared[i]!;
    }
    const distance = pairwiseSum(squared);
    if (distance === 0) return 0.5;
    return pairwiseSum(violated, 1) / distance;
  }
}

function sorted(x: Float64Array): Float64Array {
  return Float64Array.from(x).sort();
}

/** The violation ratio ε_W2 of scores `a` against `b` on the grid `dt` (deep-significance `compute_violation_ratio`). */
export function violationRatio(a: ArrayLike<number>, b: ArrayLike<number>, dt = 0.005): number {
  const fn = "violationRatio";
  const x = checkSample(fn, "a", a);
  const y = checkSample(fn, "b", b);
  const step = checkProbability(fn, "dt", dt, 0.005);
  return new ViolationRatio(x.length, y.length, step).compute(sorted(x), sorted(y));
}

interface Bootstrapped {
  readonly violationRatio: number;
  readonly sigmaHat: number;
  readonly scale: number;
}

/** Violation ratio and σ̂ of √(nm/(n+m)) (ε* − ε) over quantile-function bootstrap resamples. */
function bootstrap(
  x: Float64Array,
  y: Float64Array,
  numBootstrap: number,
  dt: number,
  seed: number,
): Bootstrapped {
  const sortedA = sorted(x);
  const sortedB = sorted(y);
  const n = x.length;
  const m = y.length;
  const ratio = new ViolationRatio(n, m, dt);
  const observed = ratio.compute(sortedA, sortedB);
  const scale = Math.sqrt((n * m) / (n + m));
  const sampleA = new Float64Array(n);
  const sampleB = new Float64Array(m);
  const deviations = new Float64Array(numBootstrap);
  for (let iteration = 0; iteration < numBootstrap; iteration++) {
    const random = new Mt19937(seed + iteration + 1);
    for (let i = 0; i < n; i++)
      sampleA[i] = sortedA[Math.min(n - 1, Math.max(0, Math.ceil(n * random.random()) - 1))]!;
    for (let i = 0; i < m; i++)
      sampleB[i] = sortedB[Math.min(m - 1, Math.max(0, Math.ceil(m * random.random()) - 1))]!;
    sampleA.sort();
    sampleB.sort();
    deviations[iteration] = scale * (ratio.compute(sampleA, sampleB) - observed);
  }
  return { violationRatio: observed, sigmaHat: Math.sqrt(variance(deviations, 0)), scale };
}

function epsilon(violation: number, sigmaHat: number, scale: number, confidenceLevel: number): number {
  const bound = violation - (1 / scale) * sigmaHat * normalQuantile(1 - confidenceLevel);
  return Math.min(1, Math.max(0, bound));
}

function checkAsoOptions(fn: string, options: AsoOptions) {
  const numBootstrap = checkInteger(fn, "options.numBootstrap", options.numBootstrap, 1, 1000);
  const seed = checkInteger(fn, "options.seed", options.seed, 0, 0);
  if (seed + numBootstrap > 0xffffffff) {
    throw new StatsError(
      fn,
      "options.seed",
      `at most ${0xffffffff - numBootstrap} (seed + iterations < 2^32)`,
      `${seed}`,
    );
  }
  return {
    confidenceLevel: checkProbability(fn, "options.confidenceLevel", options.confidenceLevel, 0.95),
    numComparisons: checkInteger(fn, "options.numComparisons", options.numComparisons, 1, 1),
    numBootstrap,
    dt: checkProbability(fn, "options.dt", options.dt, 0.005),
    seed,
  };
}

/**
 * Almost Stochastic Order test (del Barrio et al. 2018; Dror et al. 2019) as deep-significance 1.2
 * computes it: the violation ratio ε_W2 of the score distributions, σ̂ from `numBootstrap` resamples of
 * both quantile functions (each of the original size), and ε_min = clip(ε_W2 − σ̂/√(nm/(n+m)) · Φ⁻¹(1 −
 * level), 0, 1). With the same seed the resamples are deep-significance's own numpy draws.
 *
 * Decision rule: A (higher is better) is almost stochastically better than B when ε_min < 0.5; 0.2 is the
 * stricter threshold Dror et al. recommend. For several comparisons pass `numComparisons` (deep-significance's
 * Bonferroni form: the level becomes `c + (1 − c) / numComparisons`).
 */
export function aso(a: ArrayLike<number>, b: ArrayLike<number>, options: AsoOptions = {}): AsoResult {
  const fn = "aso";
  const x = checkSample(fn, "a", a);
  const y = checkSample(fn, "b", b);
  const { confidenceLevel, numComparisons, numBootstrap, dt, seed } = checkAsoOptions(fn, options);
  const level =
    numComparisons > 1 ? confidenceLevel + (1 - confidenceLevel) / numComparisons : confidenceLevel;
  const { violationRatio: ratio, sigmaHat, scale } = bootstrap(x, y, numBootstrap, dt, seed);
  return { epsilonMin: epsilon(ratio, sigmaHat, scale, level), violationRatio: ratio };
}

export interface MultiAsoOptions extends Omit<AsoOptions, "numComparisons"> {
  /** Correct the level for the k(k − 1)/2 comparisons (deep-significance's form); true by default. */
  readonly useBonferroni?: boolean;
}

export interface MultiAsoResult {
  readonly names: readonly string[];
  /** `epsilonMin[i][j]`: ε_min of model i against model j; the diagonal is 1, as in deep-significance. */
  readonly epsilonMin: readonly (readonly number[])[];
}

/**
 * ASO for every pair of models (deep-significance 1.2 `multi_aso`): one bootstrap per pair, ε_min(i, j)
 * from ε_W2 and ε_min(j, i) from 1 − ε_W2 with the same σ̂, every pair with the same seed, and the level
 * raised for k(k − 1)/2 comparisons unless `useBonferroni` is false.
 */
export function multiAso(
  scoresByModel: Readonly<Record<string, ArrayLike<number>>>,
  options: MultiAsoOptions = {},
): MultiAsoResult {
  const fn = "multiAso";
  const names = Object.keys(scoresByModel);
  if (names.length < 2) throw new StatsError(fn, "scoresByModel", "at least 2 models", `${names.length}`);
  const samples = names.map((name) => checkSample(fn, `scoresByModel.${name}`, scoresByModel[name]));
  const { confidenceLevel, numBootstrap, dt, seed } = checkAsoOptions(fn, options);
  const useBonferroni = checkBoolean(fn, "options.useBonferroni", options.useBonferroni, true);
  const comparisons = (names.length * (names.length - 1)) / 2;
  const level = useBonferroni ? confidenceLevel + (1 - confidenceLevel) / comparisons : confidenceLevel;
  const matrix: number[][] = names.map((_, i) => names.map((__, j) => (i === j ? 1 : 0)));
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const {
        violationRatio: ratio,
        sigmaHat,
        scale,
      } = bootstrap(samples[i]!, samples[j]!, numBootstrap, dt, seed);
      matrix[i]![j] = epsilon(ratio, sigmaHat, scale, level);
      matrix[j]![i] = epsilon(1 - ratio, sigmaHat, scale, level);
    }
  }
  return { names, epsilonMin: matrix };
}
