import { StatsError } from "./errors.js";
import { Mt19937 } from "./random.js";
import { type Alternative, checkAlternative, checkInteger, checkProbability } from "./validate.js";

/**
 * Per-sentence sufficient statistics, row-major with shape `[sentences, columns]` (the `{ data, dims }`
 * tensor convention). `@xlt/metrics`' `sentenceStatistics` returns exactly this for entity F1.
 */
export interface SentenceMatrix {
  readonly data: ArrayLike<number>;
  readonly dims: readonly [number, number];
}

/** Turns column totals (sums over the chosen sentences) into the corpus metric. */
export type CorpusMetric = (totals: Float64Array) => number;

/**
 * Micro-averaged entity F1 from totals laid out as `[tp, predicted, gold]` per type (the layout of
 * `@xlt/metrics`' `sentenceStatistics`); 0 when there is nothing to score, as seqeval with zero_division=0.
 */
export function microF1(totals: Float64Array): number {
  let tp = 0;
  let predicted = 0;
  let gold = 0;
  for (let c = 0; c + 2 < totals.length; c += 3) {
    tp += totals[c]!;
    predicted += totals[c + 1]!;
    gold += totals[c + 2]!;
  }
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = gold === 0 ? 0 : tp / gold;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

export interface ResamplingOptions {
  /** The corpus metric; `microF1` by default. */
  readonly metric?: CorpusMetric;
  /** Number of resamples; 10,000 by default. */
  readonly resamples?: number;
  /** Seed of the resampling (MT19937); 0 by default. */
  readonly seed?: number;
  /** `"greater"`: A's metric is higher than B's; two-sided by default. */
  readonly alternative?: Alternative;
}

export interface BootstrapOptions extends ResamplingOptions {
  /** Level of the percentile interval of the difference; 0.95 by default. */
  readonly confidenceLevel?: number;
}

export interface ResamplingResult {
  /** Corpus metric of system A on the whole test set. */
  readonly metricA: number;
  /** Corpus metric of system B on the whole test set. */
  readonly metricB: number;
  /** metricA − metricB. */
  readonly difference: number;
  /** (c + 1) / (resamples + 1). */
  readonly pValue: number;
  readonly resamples: number;
}

export interface BootstrapResult extends ResamplingResult {
  /** Percentile interval of the bootstrapped difference. */
  readonly ci: readonly [number, number];
}

function checkMatrix(
  fn: string,
  argument: string,
  x: SentenceMatrix,
): { data: ArrayLike<number>; rows: number; columns: number } {
  if (typeof x !== "object" || x === null || !Array.isArray(x.dims) || x.dims.length !== 2) {
    throw new StatsError(fn, argument, "{ data, dims: [sentences, columns] }", typeof x);
  }
  const [rows, columns] = x.dims;
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1) {
    throw new StatsError(fn, `${argument}.dims`, "[sentences >= 1, columns >= 1]", JSON.stringify(x.dims));
  }
  if (x.data.length !== rows * columns) {
    throw new StatsError(
      fn,
      `${argument}.data`,
      `${rows * columns} values (dims ${rows} × ${columns})`,
      `${x.data.length}`,
    );
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]!))
      throw new StatsError(fn, `${argument}.data[${i}]`, "a finite number", String(x.data[i]));
  }
  return { data: x.data, rows, columns };
}

/**
 * Validates both systems and lays their rows side by side in one Float64Array of shape
 * `[sentences, 2 * columns]` (A's columns, then B's). For `microF1` the per-type triples are first summed
 * into one triple, which gives the same F1 and a quarter of the work for four types.
 */
function setup(fn: string, a: SentenceMatrix, b: SentenceMatrix, options: ResamplingOptions) {
  const x = checkMatrix(fn, "a", a);
  const y = checkMatrix(fn, "b", b);
  if (x.rows !== y.rows || x.columns !== y.columns) {
    throw new StatsError(
      fn,
      "b.dims",
      `[${x.rows}, ${x.columns}] like a (paired sentences)`,
      `[${y.rows}, ${y.columns}]`,
    );
  }
  const metric = options.metric ?? microF1;
  if (typeof metric !== "function")
    throw new StatsError(fn, "options.metric", "a function of column totals", typeof metric);
  const collapse = metric === microF1 && x.columns % 3 === 0;
  const columns = collapse ? 3 : x.columns;
  const rows = x.rows;
  const pairs = new Float64Array(rows * 2 * columns); // shape: [sentences, 2 * columns]
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < x.columns; c++) {
      const target = r * 2 * columns + (collapse ? c % 3 : c);
      pairs[target]! += x.data[r * x.columns + c]!;
      pairs[target + columns]! += y.data[r * x.columns + c]!;
    }
  }
  return {
    pairs,
    rows,
    columns,
    metric,
    resamples: checkInteger(fn, "options.resamples", options.resamples, 1, 10000),
    seed: checkInteger(fn, "options.seed", options.seed, 0, 0),
    alternative: checkAlternative(fn, options.alternative),
  };
}

/** Column totals of system `offset` (0 for A, 1 for B) over all sentences. */
function columnTotals(pairs: Float64Array, rows: number, columns: number, offset: number): Float64Array {
  const totals = new Float64Array(columns);
  for (let r = 0; r < rows; r++) {
    const base = r * 2 * columns + offset * columns;
    for (let c = 0; c < columns; c++) totals[c]! += pairs[base + c]!;
  }
  return totals;
}

function isExtreme(delta: number, observed: number, gamma: number, alternative: Alternative): boolean {
  if (alternative === "greater") return delta >= observed - gamma;
  if (alternative === "less") return delta <= observed + gamma;
  return Math.abs(delta) >= Math.abs(observed) - gamma;
}

function quantileLinear(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/**
 * Paired bootstrap over sentences (Koehn 2004) with the shifted null of Berg-Kirkpatrick et al. (2012):
 * each resample draws n sentences with replacement, recomputes both corpus metrics from the summed
 * statistics and records δ* = M_A − M_B. With the observed δ, c counts resamples with δ* − δ ≥ δ
 * (`greater`), δ* − δ ≤ δ (`less`) or |δ* − δ| ≥ |δ| (two-sided); p = (c + 1) / (resamples + 1).
 */
export function pairedBootstrap(
  a: SentenceMatrix,
  b: SentenceMatrix,
  options: BootstrapOptions = {},
): BootstrapResult {
  const fn = "pairedBootstrap";
  const { pairs, rows, columns, metric, resamples, seed, alternative } = setup(fn, a, b, options);
  const level = checkProbability(fn, "options.confidenceLevel", options.confidenceLevel, 0.95);
  const metricA = metric(columnTotals(pairs, rows, columns, 0));
  const metricB = metric(columnTotals(pairs, rows, columns, 1));
  const observed = metricA - metricB;
  const random = new Mt19937(seed);
  const totalsA = new Float64Array(columns);
  const totalsB = new Float64Array(columns);
  const deltas = new Float64Array(resamples);
  const gamma = Math.abs(observed) * 1e-14;
  let count = 0;
  for (let r = 0; r < resamples; r++) {
    totalsA.fill(0);
    totalsB.fill(0);
    for (let k = 0; k < rows; k++) {
      const base = random.integer(rows) * 2 * columns;
      for (let c = 0; c < columns; c++) {
        totalsA[c]! += pairs[base + c]!;
        totalsB[c]! += pairs[base + columns + c]!;
      }
    }
    const delta = metric(totalsA) - metric(totalsB);
    deltas[r] = delta;
    if (isExtreme(delta - observed, observed, gamma, alternative)) count++;
  }
  deltas.sort();
  const tail = (1 - level) / 2;
  return {
    metricA,
    metricB,
    difference: observed,
    pValue: (count + 1) / (resamples + 1),
    resamples,
    ci: [quantileLinear(deltas, tail), quantileLinear(deltas, 1 - tail)],
  };
}

/**
 * Approximate randomization (Noreen 1989; Riezler & Maxwell 2005) over sentences: each resample swaps
 * every sentence's statistics between the two systems with probability ½ and recomputes δ* = M_A − M_B.
 * c counts δ* ≥ δ (`greater`), δ* ≤ δ (`less`) or |δ*| ≥ |δ| (two-sided); p = (c + 1) / (resamples + 1).
 */
export function approximateRandomization(
  a: SentenceMatrix,
  b: SentenceMatrix,
  options: ResamplingOptions = {},
): ResamplingResult {
  const fn = "approximateRandomization";
  const { pairs, rows, columns, metric, resamples, seed, alternative } = setup(fn, a, b, options);
  const fullA = columnTotals(pairs, rows, columns, 0);
  const fullB = columnTotals(pairs, rows, columns, 1);
  const metricA = metric(fullA);
  const metricB = metric(fullB);
  const observed = metricA - metricB;
  const random = new Mt19937(seed);
  const totalsA = new Float64Array(columns);
  const totalsB = new Float64Array(columns);
  const gamma = Math.abs(observed) * 1e-14;
  let count = 0;
  // One random bit per sentence from 32-bit draws; a leading 1 bit (2^32) marks when the word is used up.
  let bits = 1;
  for (let r = 0; r < resamples; r++) {
    totalsA.set(fullA);
    totalsB.set(fullB);
    for (let k = 0; k < rows; k++) {
      if (bits === 1) bits = random.nextUint32() + 4294967296;
      const swap = bits % 2 === 1;
      bits = Math.floor(bits / 2);
      if (!swap) continue;
      const base = k * 2 * columns;
      for (let c = 0; c < columns; c++) {
        const d = pairs[base + columns + c]! - pairs[base + c]!;
        totalsA[c]! += d;
        totalsB[c]! -= d;
      }
    }
    const delta = metric(totalsA) - metric(totalsB);
    if (isExtreme(delta, observed, gamma, alternative)) count++;
  }
  return { metricA, metricB, difference: observed, pValue: (count + 1) / (resamples + 1), resamples };
}
