import { crossEntropy, type Tensor, where } from "@xlt/graph";
import {
  Linear,
  type Module,
  type ParameterDType,
  type ParameterTree,
  subtree,
  type TensorTree,
} from "@xlt/nn";
import { HeadsError } from "./errors.js";
import type { FloatArray, HeadDecoding, HeadLossInput, TaggingHead } from "./head.js";

export interface SoftmaxHeadOptions {
  readonly inputSize: number;
  readonly labels: readonly string[];
  readonly dtype?: ParameterDType;
}

/**
 * The alternative to the CRF: an emission layer (`Linear`, `emission.weight [in, K]`,
 * `emission.bias [K]`) scored independently per step with softmax cross-entropy (mean over real
 * steps; padded steps are ignored); decoding takes each step's arg-max and its probability.
 */
export class SoftmaxHead implements Module<Tensor, Tensor>, TaggingHead {
  readonly kind = "softmax";
  readonly parameters: ParameterTree;
  readonly labels: readonly string[];
  private readonly emission: Linear;

  constructor(options: SoftmaxHeadOptions) {
    if (options.labels.length < 1)
      throw new HeadsError("SoftmaxHead", "options.labels", "at least one label", "none");
    this.labels = [...options.labels];
    this.emission = new Linear(options.inputSize, this.labels.length, { dtype: options.dtype ?? "float32" });
    this.parameters = { emission: this.emission.parameters };
  }

  /** Logits. shape: [batch, steps, K] */
  forward(params: TensorTree, features: Tensor): Tensor {
    return this.emission.forward(subtree(params, "emission"), features);
  }

  /** Mean cross-entropy over the real steps. */
  loss(_params: TensorTree, { scores, tags, mask }: HeadLossInput): Tensor {
    return crossEntropy(scores, where(mask, tags, -100), -100);
  }

  /** Arg-max tags (the first on ties) with their softmax probabilities. */
  decode(
    _values: ReadonlyMap<string, FloatArray>,
    scores: { readonly data: FloatArray; readonly dims: readonly number[] },
    lengths: readonly number[],
  ): HeadDecoding {
    const [batch, steps = 0, width] = scores.dims;
    const K = this.labels.length;
    if (scores.dims.length !== 3 || width !== K || batch !== lengths.length) {
      throw new HeadsError(
        "SoftmaxHead.decode",
        "scores",
        `[${lengths.length}, steps, ${this.labels.length}]`,
        `[${scores.dims.join(", ")}]`,
      );
    }
    const paths: number[][] = [];
    const confidences: number[][] = [];
    for (const [b, length] of lengths.entries()) {
      if (!(Number.isInteger(length) && length >= 1 && length <= steps))
        throw new HeadsError(
          "SoftmaxHead.decode",
          `lengths[${b}]`,
          `an integer in 1..${steps}`,
          String(length),
        );
      const path: number[] = [];
      const confidence: number[] = [];
      for (let t = 0; t < length; t += 1) {
        const row = scores.data.subarray((b * steps + t) * K, (b * steps + t + 1) * K);
        let best = 0;
        for (let k = 1; k < K; k += 1) if ((row[k] ?? 0) > (row[best] ?? 0)) best = k;
        const top = row[best] ?? 0;
        let sum = 0;
        for (const value of row) sum += Math.exp(value - top);
        path.push(best);
        confidence.push(1 / sum);
      }
      paths.push(path);
      confidences.push(confidence);
    }
    return { paths, confidences };
  }
}
