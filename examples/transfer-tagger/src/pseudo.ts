import { type PseudoLabelCandidate, PseudoLabelSelector } from "@xlt/data";
import { CrfHead, type SequenceTagger } from "@xlt/heads";
import type { StepSession } from "@xlt/runtime";
import type { PseudoConfig } from "./cli.js";
import { TransferError } from "./errors.js";
import type { UnlabelledSentence } from "./tasks.js";

/**
 * Mean over a sentence's tokens of the entropy (nats) of each token's marginal distribution.
 * `marginals` is `[batch, steps, tags]`; row `b` has `length` real steps.
 */
export function meanTokenEntropy(
  marginals: ArrayLike<number>,
  dims: readonly number[],
  b: number,
  length: number,
): number {
  const [, steps = 0, K = 0] = dims;
  let total = 0;
  for (let t = 0; t < length; t += 1) {
    for (let k = 0; k < K; k += 1) {
      const p = marginals[(b * steps + t) * K + k] ?? 0;
      if (p > 0) total -= p * Math.log(p);
    }
  }
  return total / length;
}

/**
 * The model's labels for `sentences` with a sentence confidence (the probability of the Viterbi path
 * under the CRF, p(path | x) = exp(score − log Z)) and the mean token-marginal entropy, from the
 * evaluation graph's emissions decoded by the tagger's CRF.
 */
export async function labelCandidates(
  tagger: SequenceTagger,
  session: StepSession,
  sentences: readonly UnlabelledSentence[],
  batchSize = 32,
): Promise<PseudoLabelCandidate[]> {
  const head = tagger.head;
  if (!(head instanceof CrfHead))
    throw new TransferError("labelCandidates", "tagger.head", "a CRF head", head.kind);
  const { tensors } = await session.snapshot();
  const crf = head.decoder(tensors, "head.");
  const out: PseudoLabelCandidate[] = [];
  for (let start = 0; start < sentences.length; start += batchSize) {
    const chunk = sentences.slice(start, start + batchSize);
    const { scores } = await session.evalStep(tagger.encode(chunk.map((s) => ({ words: s.words }))));
    if (!scores || !(scores.data instanceof Float32Array || scores.data instanceof Float64Array))
      throw new TransferError("labelCandidates", "session", "an evaluation output named scores", "none");
    const emissions = { data: scores.data, dims: scores.dims };
    const lengths = chunk.map((s) => s.words.length);
    const decoded = crf.decode(emissions, { lengths, withConfidence: true });
    const marginals = crf.marginals(emissions, { lengths });
    for (const [b, sentence] of chunk.entries()) {
      out.push({
        words: [...sentence.words],
        tags: (decoded.paths[b] ?? []).map((id) => tagger.config.labels[id] as string),
        confidence: decoded.pathProbabilities[b] ?? 0,
        entropy: meanTokenEntropy(marginals.data, marginals.dims, b, sentence.words.length),
      });
    }
  }
  return out;
}

/** Pseudo-labelling state across rounds: the selector and the sentences added so far. */
export class PseudoLabelRounds {
  readonly selector: PseudoLabelSelector;
  readonly added: PseudoLabelCandidate[] = [];

  constructor(config: PseudoConfig) {
    this.selector = new PseudoLabelSelector({
      confidenceQuantile: config.quantile,
      maxEntropy: config.maxEntropy,
      delay: config.delay,
      dropAllO: true,
    });
  }

  /** The unlabelled sentences not added yet (what the next round labels). */
  remaining(unlabelled: readonly UnlabelledSentence[]): UnlabelledSentence[] {
    const taken = new Set(this.added.map((c) => c.words.join("\u0000")));
    return unlabelled.filter((s) => !taken.has(s.words.join("\u0000")));
  }

  /**
   * Round `round` (from 0): selects from `candidates` (labelled by the previous round's model) those
   * not all `O`, at or above the confidence quantile of those, at or below the entropy threshold, and
   * only once `round` reaches the delay; they join the training set for good.
   */
  select(round: number, candidates: readonly PseudoLabelCandidate[]): PseudoLabelCandidate[] {
    const added = this.selector.select(round, candidates);
    this.added.push(...added);
    return added;
  }

  /** The gold sentences with every pseudo-labelled sentence added so far. */
  trainingSet<T extends { readonly words: readonly string[]; readonly tags: readonly string[] }>(
    gold: readonly T[],
  ): Array<T | { words: string[]; tags: string[] }> {
    return [...gold, ...this.added.map((c) => ({ words: c.words, tags: c.tags }))];
  }
}
