import type { Tensor } from "@xlt/graph";
import type { ParameterTree, TensorTree } from "@xlt/nn";

/** A parameter's value. */
export type FloatArray = Float32Array | Float64Array;

/** What a head's loss takes. */
export interface HeadLossInput {
  /** The head's scores. shape: [batch, steps, K] */
  readonly scores: Tensor;
  /** int64 gold tag ids (any valid id on padded steps). shape: [batch, steps] */
  readonly tags: Tensor;
  /** bool, true on each sequence's first `length` steps (at least one). shape: [batch, steps] */
  readonly mask: Tensor;
}

/** Decoded tags with the model's confidence in each. */
export interface HeadDecoding {
  /** Tag ids per sequence, `length` each. */
  readonly paths: number[][];
  /** The probability of each chosen tag (CRF marginal or softmax probability). */
  readonly confidences: number[][];
}

/** What a tagger needs from a head: scores from features, a loss, and decoding of evaluated scores. */
export interface TaggingHead {
  readonly kind: "crf" | "softmax";
  readonly parameters: ParameterTree;
  readonly labels: readonly string[];
  /** Per-step scores. shape: [batch, steps, K] */
  forward(params: TensorTree, features: Tensor): Tensor;
  /** The scalar training loss. */
  loss(params: TensorTree, input: HeadLossInput): Tensor;
  /** Decodes evaluated scores `[batch, steps, K]`; `values` are the trained parameters under `prefix`. */
  decode(
    values: ReadonlyMap<string, FloatArray>,
    scores: { readonly data: FloatArray; readonly dims: readonly number[] },
    lengths: readonly number[],
    prefix?: string,
  ): HeadDecoding;
}
