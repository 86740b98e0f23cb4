import { CrfError } from "./errors.js";
import { accumulateMarginals, backward, forward, makeWorkspace, type Workspace } from "./forward-backward.js";
import { clampEmissions, goldScore, subtractGold } from "./gold-labels.js";
import { type Allowed, type ParameterInput, readAllowed, readParameter } from "./parameters.js";
import { makePotentials, type Potentials } from "./potentials.js";
import type { TransitionConstraints } from "./schemes.js";
import {
  type Emissions,
  type EmissionsInput,
  type Float64Tensor,
  isTensorLike,
  readEmissions,
  readLabels,
  readLengths,
  type TagsInput,
  type TensorLike,
} from "./tensor.js";
import { nbestPaths, type ScoredPath, viterbi } from "./viterbi.js";

export interface LinearChainCrfOptions {
  /** Number of tags K. */
  numTags: number;
  /** Transition scores `[from, to]` (K·K row-major when flat). Zeros when absent. */
  transitions?: ParameterInput;
  /** Scores of starting in each tag `[K]`. Zeros when absent. */
  start?: ParameterInput;
  /** Scores of ending in each tag `[K]`. Zeros when absent. */
  end?: ParameterInput;
  /**
   * Hard constraints, e.g. from `allowedTransitions("BIO", labels)`. They apply to every method
   * alike, so the constrained CRF is one probability distribution over the allowed paths.
   */
  allowed?: TransitionConstraints;
}

export interface SequenceOptions {
  /** One length per sequence, each in 1..steps; positions past a length are ignored everywhere. */
  lengths?: ArrayLike<number>;
}

export interface DecodeOptions extends SequenceOptions {
  /** Also return each chosen tag's marginal probability and each path's probability. */
  withConfidence?: boolean;
}

export interface DecodeResult {
  /** The best path per sequence, exactly `length` tags each. */
  paths: number[][];
  /** The unnormalised score of each best path. */
  scores: number[];
  /** `confidences[b][t]`: the marginal probability p(y_t = path[t]) (with `withConfidence`). */
  confidences?: number[][];
  /** `pathProbabilities[b]`: p(path | x) = exp(score - log Z) (with `withConfidence`). */
  pathProbabilities?: number[];
}

/**
 * How `nll` reduces per-sequence losses: `"sum"`, `"mean"` over sequences (the default),
 * `"token_mean"` (sum over the total number of tokens), or `"none"` (one loss per sequence).
 */
export type Reduction = "sum" | "mean" | "token_mean" | "none";

export interface NllOptions<R extends Reduction = Reduction> extends SequenceOptions {
  reduction?: R;
}

export interface CrfGradients {
  /** shape: [batch, steps, numTags]; zero past each length. */
  emissions: Float64Tensor;
  /** shape: [numTags, numTags] ([from, to]); zero at forbidden transitions. */
  transitions: Float64Tensor;
  /** shape: [numTags]. */
  start: Float64Tensor;
  /** shape: [numTags]. */
  end: Float64Tensor;
}

export interface NllResult<R extends Reduction = "mean"> {
  /** The reduced negative log-likelihood; one value per sequence with `reduction: "none"`. */
  loss: R extends "none" ? number[] : number;
  /** Gradients of the reduced loss (of the sum of the losses with `reduction: "none"`). */
  grad: CrfGradients;
}

/** The CRF's parameters: `transitions` `[K, K]`, `start` `[K]`, `end` `[K]`. */
export interface CrfParameters {
  transitions: Float64Tensor;
  start: Float64Tensor;
  end: Float64Tensor;
}

/** JSON form of a CRF (`JSON.stringify(crf)` writes it; `LinearChainCrf.fromJSON` reads it). */
export interface CrfJson {
  format: "xlt-crf";
  version: 1;
  numTags: number;
  transitions: number[][];
  start: number[];
  end: number[];
  allowed?: { transitions: boolean[][]; start: boolean[]; end: boolean[] };
}

/**
 * Names and tensors in the layout of pytorch-crf's `state_dict` (`transitions`, `start_transitions`,
 * `end_transitions`), float64, ready for a safetensors writer.
 */
export type CrfState = Record<"transitions" | "start_transitions" | "end_transitions", Float64Tensor>;

/**
 * A linear-chain conditional random field over K tags (Lafferty, McCallum & Pereira 2001):
 *
 *   score(y | x) = start[y_0] + Σ_t e[t, y_t] + Σ_{t≥1} T[y_{t-1}, y_t] + end[y_{L-1}],
 *   p(y | x) = exp(score(y | x) - log Z(x)).
 *
 * Emissions are batch-first `[batch, steps, numTags]`; each sequence has a length in 1..steps and
 * everything past it is ignored. All arithmetic is float64 and in log space.
 */
export class LinearChainCrf {
  readonly numTags: number;
  #transitions: Float64Array;
  #start: Float64Array;
  #end: Float64Array;
  readonly #allowed: Allowed | null;
  #potentials: Potentials;
  // Scratch buffers reused across calls (grown on demand): no allocation per step in hot loops.
  #workspace: Workspace = makeWorkspace(0);
  #scratch: Float64Array;
  #backpointers = new Int32Array(0);
  #path = new Int32Array(0);
  #clamped = new Float64Array(0);
  #reservedSteps = 0;
  readonly #order: Int32Array;

  constructor(options: LinearChainCrfOptions) {
    const fn = "new LinearChainCrf";
    if (typeof options !== "object" || options === null) {
      throw new CrfError(fn, "options", "an object with numTags", String(options));
    }
    const { numTags } = options;
    if (!Number.isInteger(numTags) || numTags < 1) {
      throw new CrfError(fn, "options.numTags", "a positive integer", String(numTags));
    }
    this.numTags = numTags;
    this.#transitions = readParameter(fn, "options.transitions", options.transitions, numTags, true);
    this.#start = readParameter(fn, "options.start", options.start, numTags, false);
    this.#end = readParameter(fn, "options.end", options.end, numTags, false);
    this.#allowed = options.allowed === undefined ? null : readAllowed(fn, options.allowed, numTags);
    this.#scratch = new Float64Array(2 * numTags);
    this.#order = new Int32Array(numTags);
    this.#potentials = this.#makePotentials();
  }

  /** Rebuilds a CRF from `JSON.parse(JSON.stringify(crf))`. */
  static fromJSON(json: CrfJson): LinearChainCrf {
    const fn = "LinearChainCrf.fromJSON";
    if (typeof json !== "object" || json === null || json.format !== "xlt-crf" || json.version !== 1) {
      throw new CrfError(
        fn,
        "json",
        '{ format: "xlt-crf", version: 1, ... }',
        JSON.stringify(json)?.slice(0, 80) ?? "",
      );
    }
    return new LinearChainCrf({
      numTags: json.numTags,
      transitions: json.transitions,
      start: json.start,
      end: json.end,
      ...(json.allowed === undefined ? {} : { allowed: json.allowed }),
    });
  }

  /** Rebuilds a CRF from a pytorch-crf-style state (see {@link LinearChainCrf.state}). */
  static fromState(
    state: Record<string, TensorLike>,
    options: { allowed?: TransitionConstraints } = {},
  ): LinearChainCrf {
    const fn = "LinearChainCrf.fromState";
    const transitions = state["transitions"];
    if (transitions === undefined || !isTensorLike(transitions) || transitions.dims.length !== 2) {
      throw new CrfError(fn, 'state["transitions"]', "a [numTags, numTags] tensor", String(transitions));
    }
    const numTags = transitions.dims[0] as number;
    const start = state["start_transitions"];
    const end = state["end_transitions"];
    return new LinearChainCrf({
      numTags,
      transitions,
      ...(start === undefined ? {} : { start }),
      ...(end === undefined ? {} : { end }),
      ...(options.allowed === undefined ? {} : { allowed: options.allowed }),
    });
  }

  /** Copies of the parameters (the free scores; constraints are applied on top of them). */
  parameters(): CrfParameters {
    const K = this.numTags;
    return {
      transitions: { data: this.#transitions.slice(), dims: [K, K] },
      start: { data: this.#start.slice(), dims: [K] },
      end: { data: this.#end.slice(), dims: [K] },
    };
  }

  /** Replaces some or all parameters (validated: shape and finite values). */
  setParameters(parameters: {
    transitions?: ParameterInput;
    start?: ParameterInput;
    end?: ParameterInput;
  }): void {
    const fn = "LinearChainCrf.setParameters";
    const K = this.numTags;
    if (typeof parameters !== "object" || parameters === null) {
      throw new CrfError(
        fn,
        "parameters",
        "an object with transitions, start and/or end",
        String(parameters),
      );
    }
    const transitions =
      parameters.transitions === undefined
        ? this.#transitions
        : readParameter(fn, "parameters.transitions", parameters.transitions, K, true);
    const start =
      parameters.start === undefined
        ? this.#start
        : readParameter(fn, "parameters.start", parameters.start, K, false);
    const end =
      parameters.end === undefined
        ? this.#end
        : readParameter(fn, "parameters.end", parameters.end, K, false);
    this.#transitions = transitions;
    this.#start = start;
    this.#end = end;
    this.#potentials = this.#makePotentials();
  }

  /** pytorch-crf-compatible named tensors for checkpoints (`transitions`, `start_transitions`, `end_transitions`). */
  state(): CrfState {
    const { transitions, start, end } = this.parameters();
    return { transitions, start_transitions: start, end_transitions: end };
  }

  toJSON(): CrfJson {
    const K = this.numTags;
    const rows = <T>(flat: ArrayLike<T>): T[][] =>
      Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => flat[i * K + j] as T));
    const json: CrfJson = {
      format: "xlt-crf",
      version: 1,
      numTags: K,
      transitions: rows(this.#transitions),
      start: Array.from(this.#start),
      end: Array.from(this.#end),
    };
    if (this.#allowed !== null) {
      const allowed = this.#allowed;
      json.allowed = {
        transitions: rows(Array.from(allowed.transitions, (value) => value === 1)),
        start: Array.from(allowed.start, (value) => value === 1),
        end: Array.from(allowed.end, (value) => value === 1),
      };
    }
    return json;
  }

  /**
   * The most likely tag sequence of each sequence (Viterbi).
   *
   * @param emissions `[batch, steps, numTags]`
   * @throws CrfError on bad input, or when a sequence has no allowed path
   */
  decode(
    emissions: EmissionsInput,
    options: DecodeOptions & { withConfidence: true },
  ): Required<DecodeResult>;
  decode(emissions: EmissionsInput, options?: DecodeOptions): DecodeResult;
  decode(emissions: EmissionsInput, options: DecodeOptions = {}): DecodeResult {
    const fn = "LinearChainCrf.decode";
    const input = readEmissions(fn, emissions, this.numTags);
    const lengths = readLengths(fn, options.lengths, input);
    const { batch, steps } = input;
    const K = this.numTags;
    this.#reserve(steps);
    const paths: number[][] = [];
    const scores: number[] = [];
    for (let b = 0; b < batch; b++) {
      const length = lengths[b] as number;
      const score = viterbi(
        this.#potentials,
        input.data,
        b * steps * K,
        length,
        this.#path,
        this.#scratch,
        this.#order,
        this.#backpointers,
      );
      if (score === Number.NEGATIVE_INFINITY) throw noPath(fn, b);
      paths.push(Array.from(this.#path.subarray(0, length)));
      scores.push(score);
    }
    if (options.withConfidence !== true) return { paths, scores };
    const marginals = this.#marginals(fn, input, lengths);
    const confidences = paths.map((path, b) =>
      path.map((tag, t) => marginals.unary[(b * steps + t) * K + tag] as number),
    );
    const pathProbabilities = scores.map((score, b) => Math.exp(score - (marginals.logZ[b] as number)));
    return { paths, scores, confidences, pathProbabilities };
  }

  /**
   * The `k` best paths of each sequence, best first (fewer when fewer allowed paths exist).
   *
   * @param emissions `[batch, steps, numTags]`
   */
  nbest(emissions: EmissionsInput, k: number, options: SequenceOptions = {}): ScoredPath[][] {
    const fn = "LinearChainCrf.nbest";
    if (!Number.isInteger(k) || k < 1) throw new CrfError(fn, "k", "a positive integer", String(k));
    const input = readEmissions(fn, emissions, this.numTags);
    const lengths = readLengths(fn, options.lengths, input);
    const stride = input.steps * this.numTags;
    const result: ScoredPath[][] = [];
    for (let b = 0; b < input.batch; b++) {
      const list = nbestPaths(this.#potentials, input.data, b * stride, lengths[b] as number, k);
      if (list.length === 0) throw noPath(fn, b);
      result.push(list);
    }
    return result;
  }

  /**
   * log Z(x) of each sequence: the log of the sum of exp(score) over every allowed path.
   *
   * @throws CrfError when a sequence has no allowed path (log Z would be -Infinity)
   */
  logPartition(emissions: EmissionsInput, options: SequenceOptions = {}): number[] {
    const fn = "LinearChainCrf.logPartition";
    const input = readEmissions(fn, emissions, this.numTags);
    const lengths = readLengths(fn, options.lengths, input);
    this.#reserve(input.steps);
    const stride = input.steps * this.numTags;
    const result: number[] = [];
    for (let b = 0; b < input.batch; b++) {
      const logZ = forward(this.#potentials, input.data, b * stride, lengths[b] as number, this.#workspace);
      if (logZ === Number.NEGATIVE_INFINITY) throw noPath(fn, b);
      result.push(logZ);
    }
    return result;
  }

  /**
   * Per-position marginals p(y_t = j | x) `[batch, steps, numTags]` (forward-backward); rows sum to 1
   * within each length and are 0 past it.
   */
  marginals(emissions: EmissionsInput, options: SequenceOptions = {}): Float64Tensor {
    const fn = "LinearChainCrf.marginals";
    const input = readEmissions(fn, emissions, this.numTags);
    const lengths = readLengths(fn, options.lengths, input);
    return {
      data: this.#marginals(fn, input, lengths).unary,
      dims: [input.batch, input.steps, this.numTags],
    };
  }

  /**
   * Negative log-likelihood of the gold tags, -log p(y | x), and its gradients with respect to the
   * emissions, transitions, start and end scores.
   *
   * A tag of -1 means "unknown here", and a `[batch, steps, numTags]` Uint8Array mask lists the
   * tags allowed at each position: the loss then marginalises over every path consistent with the
   * labels, `log Z(x) - log Z(x, labels)` (partial / fuzzy labels; Tsuboi et al. 2008).
   *
   * @throws CrfError on bad input, and when the labels admit no allowed path
   */
  nll<R extends Reduction = "mean">(
    emissions: EmissionsInput,
    tags: TagsInput,
    options: NllOptions<R> = {},
  ): NllResult<R> {
    const fn = "LinearChainCrf.nll";
    const reduction = options.reduction ?? "mean";
    if (!["sum", "mean", "token_mean", "none"].includes(reduction)) {
      throw new CrfError(
        fn,
        "options.reduction",
        '"sum", "mean", "token_mean" or "none"',
        JSON.stringify(reduction),
      );
    }
    const input = readEmissions(fn, emissions, this.numTags);
    const lengths = readLengths(fn, options.lengths, input);
    const labels = readLabels(fn, tags, input, lengths);
    const { batch, steps } = input;
    const K = this.numTags;
    let tokens = 0;
    for (let b = 0; b < batch; b++) tokens += lengths[b] as number;
    const scale = reduction === "mean" ? 1 / batch : reduction === "token_mean" ? 1 / tokens : 1;
    this.#reserve(steps);
    const gradE = new Float64Array(batch * steps * K);
    const gradTransposed = new Float64Array(K * K);
    const gradStart = new Float64Array(K);
    const gradEnd = new Float64Array(K);
    const losses: number[] = [];
    const p = this.#potentials;
    for (let b = 0; b < batch; b++) {
      const length = lengths[b] as number;
      const offset = b * steps * K;
      const logZ = forward(p, input.data, offset, length, this.#workspace);
      if (logZ === Number.NEGATIVE_INFINITY) throw noPath(fn, b);
      backward(p, input.data, offset, length, this.#workspace);
      accumulateMarginals(p, input.data, offset, length, this.#workspace, logZ, scale, {
        gradE,
        gradTransposed,
        gradStart,
        gradEnd,
      });
      const gold = goldScore(p, labels, input, b, length);
      let clampedLogZ: number;
      if (gold !== null) {
        if (gold.score === Number.NEGATIVE_INFINITY) {
          throw new CrfError(
            fn,
            `tags[${b}]`,
            "a tag sequence the constraints allow",
            `a forbidden ${gold.forbidden}`,
          );
        }
        clampedLogZ = gold.score;
        subtractGold(labels, b, length, steps, K, scale, { gradE, gradTransposed, gradStart, gradEnd });
      } else {
        // Partial labels: log Z over the paths the labels allow, and its marginals with weight -scale.
        const clamped = clampEmissions(labels, input, b, length, this.#clamped);
        clampedLogZ = forward(p, clamped, 0, length, this.#workspace);
        if (clampedLogZ === Number.NEGATIVE_INFINITY) {
          throw new CrfError(
            fn,
            `tags[${b}]`,
            "labels that admit at least one allowed path",
            "none under the constraints",
          );
        }
        backward(p, clamped, 0, length, this.#workspace);
        accumulateMarginals(p, clamped, 0, length, this.#workspace, clampedLogZ, -scale, {
          gradE: gradE.subarray(offset, offset + length * K),
          gradTransposed,
          gradStart,
          gradEnd,
        });
      }
      losses.push(logZ - clampedLogZ);
    }
    const gradTransitions = new Float64Array(K * K);
    for (let i = 0; i < K; i++)
      for (let j = 0; j < K; j++) gradTransitions[i * K + j] = gradTransposed[j * K + i] as number;
    const grad: CrfGradients = {
      emissions: { data: gradE, dims: [batch, steps, K] },
      transitions: { data: gradTransitions, dims: [K, K] },
      start: { data: gradStart, dims: [K] },
      end: { data: gradEnd, dims: [K] },
    };
    let total = 0;
    for (const loss of losses) total += loss;
    const loss = reduction === "none" ? losses : total * scale;
    return { loss, grad } as NllResult<R>;
  }

  #makePotentials(): Potentials {
    return makePotentials(this.numTags, this.#transitions, this.#start, this.#end, this.#allowed);
  }

  #reserve(steps: number): void {
    if (steps <= this.#reservedSteps) return;
    const size = Math.max(steps * this.numTags, 2 * this.numTags);
    this.#workspace = makeWorkspace(size);
    this.#backpointers = new Int32Array(size);
    this.#path = new Int32Array(steps);
    this.#clamped = new Float64Array(size);
    this.#reservedSteps = steps;
  }

  #marginals(fn: string, input: Emissions, lengths: Int32Array): { unary: Float64Array; logZ: Float64Array } {
    const { batch, steps } = input;
    const stride = steps * this.numTags;
    this.#reserve(steps);
    const unary = new Float64Array(batch * stride);
    const logZs = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      const length = lengths[b] as number;
      const logZ = forward(this.#potentials, input.data, b * stride, length, this.#workspace);
      if (logZ === Number.NEGATIVE_INFINITY) throw noPath(fn, b);
      backward(this.#potentials, input.data, b * stride, length, this.#workspace);
      accumulateMarginals(this.#potentials, input.data, b * stride, length, this.#workspace, logZ, 0, {
        unary,
      });
      logZs[b] = logZ;
    }
    return { unary, logZ: logZs };
  }
}

function noPath(fn: string, b: number): CrfError {
  return new CrfError(
    fn,
    `emissions[${b}]`,
    "a sequence with at least one allowed path",
    "none (every path is forbidden by the constraints or a -Infinity score)",
  );
}
