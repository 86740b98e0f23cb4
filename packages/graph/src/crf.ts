import { logSumExp, oneHot } from "./composites.js";
import { cumsum } from "./cumsum.js";
import { add, and, cast, greater, mul, not, sub, where } from "./elementwise.js";
import { GraphError } from "./errors.js";
import type { Tensor } from "./graph.js";
import { concat, slice } from "./indexing.js";
import { scan } from "./scan.js";
import { onesLike, reduceSum, squeeze, unsqueeze } from "./structural.js";

/** A linear-chain CRF's parameters as graph tensors. */
export interface CrfTensors {
  /** shape: [K, K], `[from, to]`. */
  readonly transitions: Tensor;
  /** shape: [K]. */
  readonly start: Tensor;
  /** shape: [K]. */
  readonly end: Tensor;
}

/**
 * Per-sequence negative log-likelihood of a linear-chain CRF (Lafferty et al. 2001), `log Z(x) -
 * score(y | x)`, shape `[batch]`, with the forward algorithm in a Scan so its gradient is a reversed
 * Scan. `emissions` `[batch, steps, K]`, int64 `tags` `[batch, steps]`, bool `mask` `[batch, steps]`
 * true on each sequence's first `length` steps. The same model as `@xlt/crf`'s `LinearChainCrf.nll`;
 * a zero-length row (mask all false, as in a padded batch) gets exactly 0 loss and 0 gradient.
 */
export function crfNll(emissions: Tensor, tags: Tensor, mask: Tensor, crf: CrfTensors): Tensor {
  const K = emissions.shape[2];
  if (emissions.rank !== 3 || typeof K !== "number") {
    throw new GraphError("crfNll", "emissions", "[batch, steps, K] with a fixed K", `rank ${emissions.rank}`);
  }
  if (tags.dtype !== "int64") throw new GraphError("crfNll", "tags", "an int64 tensor", tags.dtype);
  if (mask.dtype !== "bool") throw new GraphError("crfNll", "mask", "a bool tensor", mask.dtype);
  const dtype = emissions.dtype;
  const keep = cast(mask, dtype); // shape: [batch, steps]

  // log Z by the forward algorithm: alpha_0 = start + e_0, then
  // alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + T[i, j]) + e_t[j] on the steps the mask keeps.
  // One Scan over all steps with a "first step" flag: ORT's Scan cannot run zero iterations.
  // alpha starts at start + e_0; the Scan runs over every step (ORT's Scan cannot run zero steps)
  // and leaves alpha alone at the first step and past each row's length.
  const alpha0 = add(crf.start, squeeze(slice(emissions, 1, 0, 1), [1])); // shape: [batch, K]
  const position = cumsum(onesLike(cast(mask, "int64")), 1); // 1-based, shape: [batch, steps]
  const later = unsqueeze(and(mask, greater(position, 1)), [-1]); // shape: [batch, steps, 1]
  const { carry } = scan(
    ([alpha], [e, m]) => {
      const a = alpha as Tensor;
      const scores = add(unsqueeze(a, [-1]), crf.transitions); // shape: [batch, K, K]
      const next = add(logSumExp(scores, [1]), e as Tensor); // shape: [batch, K]
      return { carry: [where(m as Tensor, next, a)], ys: [] };
    },
    [alpha0],
    [emissions, later],
    { axis: 1 },
  );
  const logZ = logSumExp(add(carry[0] as Tensor, crf.end), [-1]); // shape: [batch]

  // The gold path's score.
  const gold = oneHot(tags, K, dtype); // shape: [batch, steps, K]
  const emitted = reduceSum(mul(reduceSum(mul(emissions, gold), [-1]), keep), [-1]);
  const first = squeeze(slice(gold, 1, 0, 1), [1]); // shape: [batch, K]
  const started = reduceSum(mul(first, crf.start), [-1]);
  const previous = slice(gold, 1, 0, -1);
  const following = slice(gold, 1, 1);
  // Σ_ij prev_i T_ij next_j by broadcasting, not MatMul: with one step the inner dim is empty, and
  // ORT's MatMul over an empty inner dim was seen to leave stale memory instead of zeros.
  const pairs = mul(mul(unsqueeze(previous, [-1]), crf.transitions), unsqueeze(following, [-2])); // shape: [batch, steps-1, K, K]
  const moved = reduceSum(pairs, [-2, -1]); // shape: [batch, steps-1]
  const transitions = reduceSum(mul(moved, slice(keep, 1, 1)), [-1]);
  // The last step of each sequence: on now, off next.
  const column = slice(mask, 1, 0, 1); // shape: [batch, 1]
  const nextMask = concat([slice(mask, 1, 1), and(column, not(column))], 1);
  const last = cast(and(mask, not(nextMask)), dtype); // shape: [batch, steps]
  const ended = reduceSum(mul(reduceSum(mul(gold, unsqueeze(last, [-1])), [1]), crf.end), [-1]);
  const score = add(add(add(emitted, started), transitions), ended);
  // Zero-length rows would otherwise add logsumexp(end) - start[tags[:, 0]]: keep only rows whose
  // first step is on (the mask is a prefix), so theirs is exactly 0 and so is its gradient.
  const present = squeeze(slice(keep, 1, 0, 1), [1]); // shape: [batch]
  return mul(sub(logZ, score), present);
}
