import {
  broadcastTo,
  concat,
  type Dim,
  scalarLike,
  shapeOf,
  slice,
  type Tensor,
  unsqueeze,
} from "@xlt/graph";
import { NnError } from "./errors.js";

/*
 * Virtual-token embeddings prepended to a model's word embeddings: the input side of prompt tuning
 * (Lester et al. 2021, "The Power of Scale for Parameter-Efficient Prompt Tuning"), as Hugging Face
 * PEFT runs it: `inputs_embeds = cat(prompts, word_embeddings(input_ids))`, the attention mask
 * extended by ones, token type ids by zeros and causal-LM labels by -100.
 */

/**
 * The number of virtual tokens of `prefix`: `[virtual, hidden]` (shared by every row) or `[batch,
 * virtual, hidden]`, with a fixed `virtual >= 1`.
 */
export function prefixLength(fn: string, prefix: Tensor): number {
  const virtual = prefix.shape[prefix.rank - 2];
  if ((prefix.rank !== 2 && prefix.rank !== 3) || typeof virtual !== "number" || virtual < 1)
    throw new NnError(
      fn,
      "prefix",
      "a tensor [virtual, hidden] or [batch, virtual, hidden] with a fixed virtual >= 1",
      `${prefix.dtype}[${prefix.shape.join(",")}]`,
    );
  return virtual;
}

/** The runtime shape `[batch, ...tail]` of a tensor whose first axis is `like`'s, with its static dims. */
function batchShape(like: Tensor, tail: readonly number[]): { shape: Tensor; dims: Dim[] } {
  const rest = like.graph.constant(BigInt64Array.from(tail, BigInt), [tail.length]);
  return {
    shape: concat([slice(shapeOf(like), 0, 0, 1), rest], 0),
    dims: [like.shape[0] as Dim, ...tail],
  };
}

/**
 * `embedded [batch, steps, hidden]` with `prefix` in front → `[batch, virtual + steps, hidden]`; a
 * `[virtual, hidden]` prefix is repeated for every row (PEFT's `prompt_tokens.expand(batch, -1)`).
 */
export function prependPrefix(fn: string, embedded: Tensor, prefix: Tensor): Tensor {
  const virtual = prefixLength(fn, prefix);
  const hidden = embedded.shape[2];
  if (
    typeof hidden !== "number" ||
    prefix.shape[prefix.rank - 1] !== hidden ||
    prefix.dtype !== embedded.dtype
  )
    throw new NnError(
      fn,
      "prefix",
      `a ${embedded.dtype} tensor with ${hidden} features (the word embeddings')`,
      `${prefix.dtype}[${prefix.shape.join(",")}]`,
    );
  if (prefix.rank === 3) return concat([prefix, embedded], 1);
  const { shape, dims } = batchShape(embedded, [virtual, hidden]);
  return concat([broadcastTo(unsqueeze(prefix, [0]), shape, dims), embedded], 1);
}

/** `x [batch, steps]` with `count` columns of `value` (in `x`'s dtype) in front → `[batch, count + steps]`. */
export function prependColumns(x: Tensor, count: number, value: number): Tensor {
  const { shape, dims } = batchShape(x, [count]);
  return concat([broadcastTo(scalarLike(value, x), shape, dims), x], 1);
}

/**
 * Labels `[batch, steps]` (int64) for outputs with `virtualTokens` prefix positions: -100 (ignored)
 * for each virtual token, then `labels` → `[batch, virtualTokens + steps]`, as PEFT's prompt tuning
 * prepends `torch.full((batch, num_virtual_tokens), -100)` to causal-LM labels. Token-classification
 * labels need the same (PEFT passes them on unchanged, so they must cover the virtual positions).
 */
export function prefixLabels(labels: Tensor, virtualTokens: number): Tensor {
  if (labels.dtype !== "int64" || labels.rank !== 2)
    throw new NnError(
      "prefixLabels",
      "labels",
      "an int64 tensor [batch, steps]",
      `${labels.dtype} [${labels.shape.join(",")}]`,
    );
  if (!Number.isInteger(virtualTokens) || virtualTokens < 0)
    throw new NnError("prefixLabels", "virtualTokens", "an integer >= 0", String(virtualTokens));
  return virtualTokens === 0 ? labels : prependColumns(labels, virtualTokens, -100);
}
