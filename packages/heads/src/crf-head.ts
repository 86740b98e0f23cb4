import { allowedTransitions, LinearChainCrf, type TagScheme, type TransitionConstraints } from "@xlt/crf";
import { type CrfTensors, crfNll, mean, type Tensor, where } from "@xlt/graph";
import {
  Linear,
  leaf,
  type Module,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  subtree,
  type TensorTree,
  uniform,
} from "@xlt/nn";
import { HeadsError } from "./errors.js";
import type { FloatArray, HeadDecoding, HeadLossInput, TaggingHead } from "./head.js";

/**
 * The score that stands for a forbidden transition, start or end in training: -10000. A finite
 * constant rather than -Infinity because the gold path's score is a sum of one-hot products
 * (0 · -Infinity would be NaN); exp(-10000) is exactly 0 in float32 and float64, so forbidden paths
 * add nothing to the partition function, and a gold path that breaks the scheme gets a loss of
 * about 10000 per broken step instead of NaN. Decoding applies the same constraints exactly
 * through `@xlt/crf`'s `allowed`.
 */
export const FORBIDDEN_SCORE = -10_000;

export interface CrfHeadOptions {
  /** Features per step coming from the encoder. */
  readonly inputSize: number;
  /** The tag labels, in id order. */
  readonly labels: readonly string[];
  /** A tagging scheme whose transition constraints hold in training and decoding (BIO, BIOES, …). */
  readonly scheme?: TagScheme;
  readonly dtype?: ParameterDType;
}

/**
 * An emission layer (`Linear`, features → one score per tag) and a linear-chain CRF (Lafferty et al.
 * 2001) whose training loss is `@xlt/graph`'s `crfNll`, the graph side of `@xlt/crf`'s `nll`, and
 * whose decoding is `@xlt/crf`'s Viterbi with marginal confidences. Parameters: `emission.weight
 * [in, K]`, `emission.bias [K]`, `crf.transitions [K, K]` (`[from, to]`), `crf.start [K]`,
 * `crf.end [K]`, the CRF's initialised U(±0.1) as pytorch-crf's and without weight decay.
 */
export class CrfHead implements Module<Tensor, Tensor>, TaggingHead {
  readonly kind = "crf";
  readonly parameters: ParameterTree;
  readonly labels: readonly string[];
  readonly scheme: TagScheme | undefined;
  /** The scheme's constraints, when there is a scheme. */
  readonly allowed: TransitionConstraints | undefined;
  private readonly emission: Linear;

  constructor(options: CrfHeadOptions) {
    if (options.labels.length < 1)
      throw new HeadsError("CrfHead", "options.labels", "at least one label", "none");
    const K = options.labels.length;
    const dtype = options.dtype ?? "float32";
    this.labels = [...options.labels];
    this.scheme = options.scheme;
    this.allowed = options.scheme ? allowedTransitions(options.scheme, this.labels) : undefined;
    this.emission = new Linear(options.inputSize, K, { dtype });
    const init = uniform(-0.1, 0.1);
    this.parameters = {
      emission: this.emission.parameters,
      crf: {
        transitions: new Parameter([K, K], { init, dtype, decay: false }),
        start: new Parameter([K], { init, dtype, decay: false }),
        end: new Parameter([K], { init, dtype, decay: false }),
      },
    };
  }

  /** Emission scores. shape: [batch, steps, K] */
  forward(params: TensorTree, features: Tensor): Tensor {
    return this.emission.forward(subtree(params, "emission"), features);
  }

  /** The CRF's parameters with forbidden entries replaced by {@link FORBIDDEN_SCORE}. */
  constrained(params: TensorTree): CrfTensors {
    const crf = subtree(params, "crf");
    const transitions = leaf(crf, "transitions");
    const start = leaf(crf, "start");
    const end = leaf(crf, "end");
    const allowed = this.allowed;
    if (!allowed) return { transitions, start, end };
    const K = this.labels.length;
    const graph = transitions.graph;
    const bools = (values: readonly boolean[], shape: number[]) =>
      graph.constant(
        Uint8Array.from(values, (v) => (v ? 1 : 0)),
        shape,
      );
    return {
      transitions: where(bools(allowed.transitions.flat(), [K, K]), transitions, FORBIDDEN_SCORE),
      start: where(bools(allowed.start, [K]), start, FORBIDDEN_SCORE),
      end: where(bools(allowed.end, [K]), end, FORBIDDEN_SCORE),
    };
  }

  /** Negative log-likelihood of each sequence. shape: [batch] */
  nll(params: TensorTree, { scores, tags, mask }: HeadLossInput): Tensor {
    return crfNll(scores, tags, mask, this.constrained(params));
  }

  /** The training loss: the mean over sequences of the CRF negative log-likelihood. */
  loss(params: TensorTree, input: HeadLossInput): Tensor {
    return mean(this.nll(params, input));
  }

  /** A `@xlt/crf` decoder with the trained parameters (read at `prefix + "crf.*"`) and the constraints. */
  decoder(values: ReadonlyMap<string, FloatArray>, prefix = ""): LinearChainCrf {
    const get = (name: string) => {
      const value = values.get(`${prefix}crf.${name}`);
      if (!value)
        throw new HeadsError("CrfHead.decoder", "values", `a value for ${prefix}crf.${name}`, "none");
      return value;
    };
    return new LinearChainCrf({
      numTags: this.labels.length,
      transitions: get("transitions"),
      start: get("start"),
      end: get("end"),
      ...(this.allowed ? { allowed: this.allowed } : {}),
    });
  }

  /** The Viterbi path of each sequence with each chosen tag's marginal probability. */
  decode(
    values: ReadonlyMap<string, FloatArray>,
    scores: { readonly data: FloatArray; readonly dims: readonly number[] },
    lengths: readonly number[],
    prefix = "",
  ): HeadDecoding {
    const { paths, confidences } = this.decoder(values, prefix).decode(scores, {
      lengths,
      withConfidence: true,
    });
    return { paths, confidences };
  }
}
