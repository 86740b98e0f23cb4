import {
  add,
  cast,
  div,
  gather,
  isFloat,
  matmul,
  mul,
  reduceSum,
  relu,
  reshape,
  sqrt,
  sub,
  type Tensor,
  transposeLast,
  unsqueeze,
  where,
} from "@xlt/graph";
import { NnError } from "./errors.js";

/** The hidden-state alignment losses {@link alignmentLoss} combines over layers. */
export type HiddenAlignmentKind = "meanVariance" | "averageLinkage";

export interface AverageLinkageOptions {
  /**
   * Added under the square root of each squared distance, `d = √(‖x − y‖² + ε)`, so that the gradient
   * stays finite where two tokens coincide (every `i = j` pair of a set does). Default 1e-8. Each
   * distance grows by at most √ε, so the loss moves by at most 2√ε.
   */
  readonly epsilon?: number;
}

export interface AlignmentLossOptions extends AverageLinkageOptions {
  /** `"meanVariance"` ({@link meanVarianceAlignment}) or `"averageLinkage"` ({@link averageLinkageAlignment}). */
  readonly kind: HiddenAlignmentKind;
  /** Multiplies the summed loss (default 1). */
  readonly weight?: number;
  /** Indices into the hidden-state lists of the layers to align (default all of them). */
  readonly layers?: readonly number[];
}

/** Real-token rows of one language's batch. */
interface Rows {
  /** shape: [tokens, dim], padding rows zeroed */
  readonly x: Tensor;
  /** shape: [tokens], 1 for real tokens and 0 for padding, in x's dtype */
  readonly m: Tensor;
  /** shape: [], the number of real tokens */
  readonly n: Tensor;
}

function rows(fn: string, side: "A" | "B", hidden: Tensor, mask: Tensor): Rows {
  if (!isFloat(hidden.dtype))
    throw new NnError(fn, `hidden${side}`, "a float32 or float64 tensor", hidden.dtype);
  if (hidden.rank !== 3)
    throw new NnError(fn, `hidden${side}`, "a [batch, steps, dim] tensor", `rank ${hidden.rank}`);
  const dim = hidden.shape[2];
  if (typeof dim !== "number") throw new NnError(fn, `hidden${side}`, "a fixed dim", `"${dim}"`);
  if (mask.rank !== 2) throw new NnError(fn, `mask${side}`, "a [batch, steps] tensor", `rank ${mask.rank}`);
  for (const axis of [0, 1]) {
    const [h, m] = [hidden.shape[axis], mask.shape[axis]];
    if (typeof h === "number" && typeof m === "number" && h !== m)
      throw new NnError(
        fn,
        `mask${side}`,
        `the shape [${hidden.shape.slice(0, 2).join(", ")}]`,
        `[${mask.shape.join(", ")}]`,
      );
  }
  const keep = reshape(cast(mask, "bool"), [-1]); // shape: [tokens]
  const m = cast(keep, hidden.dtype); // shape: [tokens]
  const x = where(unsqueeze(keep, [-1]), reshape(hidden, [-1, dim]), 0); // shape: [tokens, dim]
  return { x, m, n: reduceSum(m) };
}

function sameDims(fn: string, hiddenA: Tensor, hiddenB: Tensor): void {
  if (hiddenA.dtype !== hiddenB.dtype)
    throw new NnError(fn, "hiddenB", `the dtype of hiddenA (${hiddenA.dtype})`, hiddenB.dtype);
  if (hiddenA.shape[2] !== hiddenB.shape[2])
    throw new NnError(fn, "hiddenB", `the dim of hiddenA (${hiddenA.shape[2]})`, String(hiddenB.shape[2]));
}

/** Mean and (biased) variance over real tokens, each shape [dim]. */
function moments({ x, m, n }: Rows): [Tensor, Tensor] {
  const mu = div(reduceSum(x, [0]), n); // shape: [dim]
  const centred = mul(sub(x, mu), unsqueeze(m, [-1])); // shape: [tokens, dim], padding rows 0
  const variance = div(reduceSum(mul(centred, centred), [0]), n); // shape: [dim]
  return [mu, variance];
}

/**
 * Mean-and-variance alignment of one layer between two languages' batches (MLMA):
 * `‖μ_A − μ_B‖² + ‖σ²_A − σ²_B‖²`, where `μ` and `σ²` are the per-dimension mean and biased variance
 * (divided by the count, as torch's `var(unbiased=False)`) over the real tokens of each batch.
 *
 * @param hiddenA shape: [batchA, stepsA, dim] float hidden states of language A
 * @param maskA shape: [batchA, stepsA], nonzero (or true) for real tokens; padding is ignored
 * @returns a scalar
 */
export function meanVarianceAlignment(
  hiddenA: Tensor,
  maskA: Tensor,
  hiddenB: Tensor,
  maskB: Tensor,
): Tensor {
  const fn = "meanVarianceAlignment";
  const a = rows(fn, "A", hiddenA, maskA);
  const b = rows(fn, "B", hiddenB, maskB);
  sameDims(fn, hiddenA, hiddenB);
  const [muA, varA] = moments(a);
  const [muB, varB] = moments(b);
  const dMu = sub(muA, muB); // shape: [dim]
  const dVar = sub(varA, varB); // shape: [dim]
  return add(reduceSum(mul(dMu, dMu)), reduceSum(mul(dVar, dVar)));
}

/** Weighted mean of `d_ε(x_i, y_j)` over real pairs: `Σ m_i m'_j d_ij / (n n')`. */
function meanDistance(p: Rows, q: Rows, epsilon: number): Tensor {
  const pp = unsqueeze(reduceSum(mul(p.x, p.x), [-1]), [-1]); // shape: [N, 1]
  const qq = unsqueeze(reduceSum(mul(q.x, q.x), [-1]), [0]); // shape: [1, M]
  const cross = matmul(p.x, transposeLast(q.x)); // shape: [N, M]
  // ‖x‖² + ‖y‖² − 2x·y can round below 0 for close points: clamp, then add ε under the root.
  const squared = relu(sub(add(pp, qq), mul(cross, 2))); // shape: [N, M]
  const distance = sqrt(add(squared, epsilon)); // shape: [N, M]
  const weights = mul(unsqueeze(p.m, [-1]), unsqueeze(q.m, [0])); // shape: [N, M]
  return div(reduceSum(mul(distance, weights)), mul(p.n, q.n));
}

/**
 * Average-linkage alignment of one layer (MLMA), i.e. the energy distance between the two sets of
 * real-token hidden states (Székely & Rizzo 2013): `2·E‖x − y‖ − E‖x − x′‖ − E‖y − y′‖`, x and x′
 * from A, y and y′ from B, Euclidean. Each expectation is the average over all pairs of real tokens,
 * the within-set ones including the `i = j` pairs (the V-statistic), which keeps the loss >= 0;
 * distances are `√(‖x − y‖² + ε)` (see {@link AverageLinkageOptions.epsilon}). Memory is
 * `[tokensA + tokensB]²` (padding positions included).
 *
 * @param hiddenA shape: [batchA, stepsA, dim]
 * @param maskA shape: [batchA, stepsA], nonzero (or true) for real tokens
 * @returns a scalar
 */
export function averageLinkageAlignment(
  hiddenA: Tensor,
  maskA: Tensor,
  hiddenB: Tensor,
  maskB: Tensor,
  options: AverageLinkageOptions = {},
): Tensor {
  const fn = "averageLinkageAlignment";
  const epsilon = options.epsilon ?? 1e-8;
  if (!(epsilon > 0 && Number.isFinite(epsilon)))
    throw new NnError(fn, "options.epsilon", "a finite number > 0", String(epsilon));
  const a = rows(fn, "A", hiddenA, maskA);
  const b = rows(fn, "B", hiddenB, maskB);
  sameDims(fn, hiddenA, hiddenB);
  const between = meanDistance(a, b, epsilon);
  return sub(sub(mul(between, 2), meanDistance(a, a, epsilon)), meanDistance(b, b, epsilon));
}

const KINDS: Readonly<Record<HiddenAlignmentKind, true>> = { meanVariance: true, averageLinkage: true };

/**
 * A hidden-state alignment loss over chosen layers: `weight · Σ_{l ∈ layers} loss(hiddenA[l], hiddenB[l])`
 * with `loss` the {@link meanVarianceAlignment} or {@link averageLinkageAlignment} of that layer.
 *
 * @param hiddenA language A's hidden states, one `[batchA, stepsA, dim]` tensor per layer
 * @param maskA shape: [batchA, stepsA]
 * @param hiddenB language B's hidden states, one `[batchB, stepsB, dim]` tensor per layer
 * @param maskB shape: [batchB, stepsB]
 * @returns a scalar
 */
export function alignmentLoss(
  hiddenA: readonly Tensor[],
  maskA: Tensor,
  hiddenB: readonly Tensor[],
  maskB: Tensor,
  options: AlignmentLossOptions,
): Tensor {
  const fn = "alignmentLoss";
  if (!Object.hasOwn(KINDS, options.kind))
    throw new NnError(fn, "options.kind", '"meanVariance" or "averageLinkage"', JSON.stringify(options.kind));
  if (hiddenA.length !== hiddenB.length)
    throw new NnError(fn, "hiddenB", `${hiddenA.length} layers like hiddenA`, String(hiddenB.length));
  const weight = options.weight ?? 1;
  if (!(weight >= 0 && Number.isFinite(weight)))
    throw new NnError(fn, "options.weight", "a finite number >= 0", String(weight));
  const layers = options.layers ?? hiddenA.map((_, index) => index);
  if (layers.length === 0) throw new NnError(fn, "options.layers", "at least one layer", "none");
  const losses = layers.map((layer, index) => {
    const a = hiddenA[layer];
    const b = hiddenB[layer];
    if (!Number.isInteger(layer) || a === undefined || b === undefined)
      throw new NnError(
        fn,
        `options.layers[${index}]`,
        `a layer index in [0, ${hiddenA.length})`,
        String(layer),
      );
    return options.kind === "meanVariance"
      ? meanVarianceAlignment(a, maskA, b, maskB)
      : averageLinkageAlignment(a, maskA, b, maskB, options);
  });
  return mul(
    losses.reduce((total, loss) => add(total, loss)),
    weight,
  );
}

export interface IdenticalStringOptions {
  /** Multiplies the loss (default 1). */
  readonly weight?: number;
}

/**
 * Identical-string embedding alignment (MLMA): the mean over pairs of the squared Euclidean distance
 * `‖E_A[a] − E_B[b]‖²` between the embeddings of tokens that are the same string in both languages'
 * vocabularies ({@link identicalStringPairs}), times `weight`. For a shared vocabulary with
 * language-specific embedding tables pass `[id, id]` pairs.
 *
 * @param tableA shape: [vocabularyA, dim] language A's embedding table
 * @param tableB shape: [vocabularyB, dim] language B's embedding table
 * @param pairs `[idA, idB]` pairs of rows to pull together
 * @returns a scalar
 */
export function identicalStringAlignment(
  tableA: Tensor,
  tableB: Tensor,
  pairs: readonly (readonly [number, number])[],
  options: IdenticalStringOptions = {},
): Tensor {
  const fn = "identicalStringAlignment";
  for (const [side, table] of [
    ["A", tableA],
    ["B", tableB],
  ] as const) {
    if (!isFloat(table.dtype) || table.rank !== 2)
      throw new NnError(
        fn,
        `table${side}`,
        "a float [vocabulary, dim] tensor",
        `${table.dtype} of rank ${table.rank}`,
      );
  }
  if (tableA.dtype !== tableB.dtype)
    throw new NnError(fn, "tableB", `the dtype of tableA (${tableA.dtype})`, tableB.dtype);
  if (tableA.shape[1] !== tableB.shape[1])
    throw new NnError(fn, "tableB", `the dim of tableA (${tableA.shape[1]})`, String(tableB.shape[1]));
  if (pairs.length === 0) throw new NnError(fn, "pairs", "at least one pair", "none");
  const weight = options.weight ?? 1;
  if (!(weight >= 0 && Number.isFinite(weight)))
    throw new NnError(fn, "options.weight", "a finite number >= 0", String(weight));
  const ids = (side: 0 | 1, table: Tensor): Tensor => {
    const rowsCount = table.shape[0];
    const limit = typeof rowsCount === "number" ? rowsCount : Number.POSITIVE_INFINITY;
    const values = pairs.map((pair, index) => {
      const id = pair[side];
      if (!Number.isSafeInteger(id) || id < 0 || id >= limit)
        throw new NnError(
          fn,
          `pairs[${index}][${side}]`,
          `a row of table${side === 0 ? "A" : "B"} in [0, ${limit})`,
          String(id),
        );
      return BigInt(id);
    });
    return table.graph.constant(BigInt64Array.from(values), [pairs.length]);
  };
  const difference = sub(gather(tableA, ids(0, tableA)), gather(tableB, ids(1, tableB))); // shape: [pairs, dim]
  return mul(reduceSum(mul(difference, difference)), weight / pairs.length);
}

/**
 * The `[idA, idB]` pairs of tokens spelled the same in two vocabularies (token → id, as a
 * `tokenizer.json`'s `model.vocab`), sorted by `idA`; tokens in `exclude` (special tokens) are left out.
 */
export function identicalStringPairs(
  vocabularyA: Readonly<Record<string, number>>,
  vocabularyB: Readonly<Record<string, number>>,
  options: { readonly exclude?: readonly string[] } = {},
): [number, number][] {
  const exclude = new Set(options.exclude ?? []);
  const pairs: [number, number][] = [];
  for (const [token, idA] of Object.entries(vocabularyA)) {
    if (exclude.has(token) || !Object.hasOwn(vocabularyB, token)) continue;
    const idB = vocabularyB[token];
    if (idB !== undefined) pairs.push([idA, idB]);
  }
  return pairs.sort((p, q) => p[0] - q[0]);
}
