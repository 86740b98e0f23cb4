import { LinearChainCrf } from "@xlt/crf";
import { TaggerError } from "./errors.js";
import { extractFeatures, FEATURES_PER_TOKEN } from "./features.js";

/** A sentence with one tag per word (the shape of `@xlt/data`'s `TaggedSentence`). */
export interface Sentence {
  readonly words: readonly string[];
  readonly tags: readonly string[];
}

/**
 * A feature CRF: emission score of tag k at a token = Σ over its hashed features f of
 * `weights[f, k]`; the CRF's transition, start and end scores sit on top.
 */
export interface FeatureCrf {
  /** Features are hashed into `2 ** bits` buckets. */
  readonly bits: number;
  /** Tag names; tag index k is `tags[k]`. */
  readonly tags: readonly string[];
  /** shape: [2 ** bits, numTags] */
  readonly weights: Float64Array;
  /** shape: [numTags, numTags] ([from, to]) */
  readonly transitions: Float64Array;
  /** shape: [numTags] */
  readonly start: Float64Array;
  /** shape: [numTags] */
  readonly end: Float64Array;
}

/** The same arrays as a `FeatureCrf`'s parameters: its gradient, or optimizer state. */
export interface FeatureCrfArrays {
  readonly weights: Float64Array;
  readonly transitions: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
}

/** A sentence's hashed features and gold tag indices (`-1` for a tag the model does not know). */
export interface EncodedSentence {
  readonly length: number;
  /** shape: [length, FEATURES_PER_TOKEN] */
  readonly features: Int32Array;
  /** shape: [length] */
  readonly tags: Int32Array;
}

/** A model with all scores zero, over the given tags. */
export function createFeatureCrf(tags: readonly string[], bits: number): FeatureCrf {
  if (tags.length < 1) throw new TaggerError("createFeatureCrf", "tags", "at least one tag", "none");
  if (new Set(tags).size !== tags.length) {
    throw new TaggerError("createFeatureCrf", "tags", "distinct tag names", `[${tags.join(", ")}]`);
  }
  if (!Number.isInteger(bits) || bits < 1 || bits > 24) {
    throw new TaggerError("createFeatureCrf", "bits", "an integer in 1..24", String(bits));
  }
  const K = tags.length;
  return {
    bits,
    tags: [...tags],
    weights: new Float64Array(2 ** bits * K),
    transitions: new Float64Array(K * K),
    start: new Float64Array(K),
    end: new Float64Array(K),
  };
}

/** Zero-filled arrays shaped like the model's parameters. */
export function zerosLike(model: FeatureCrfArrays): FeatureCrfArrays {
  return {
    weights: new Float64Array(model.weights.length),
    transitions: new Float64Array(model.transitions.length),
    start: new Float64Array(model.start.length),
    end: new Float64Array(model.end.length),
  };
}

/** The sorted set of tags in a corpus. */
export function tagSet(sentences: readonly Sentence[]): string[] {
  const tags = new Set<string>();
  for (const sentence of sentences) for (const tag of sentence.tags) tags.add(tag);
  return [...tags].sort();
}

/** Hashes a sentence's features and maps its tags to indices (unknown tags → -1). */
export function encodeSentence(model: FeatureCrf, sentence: Sentence): EncodedSentence {
  const { words, tags } = sentence;
  if (words.length < 1 || tags.length !== words.length) {
    throw new TaggerError(
      "encodeSentence",
      "sentence",
      "at least one word and one tag per word",
      `${words.length} words and ${tags.length} tags`,
    );
  }
  const index = new Map(model.tags.map((tag, k) => [tag, k]));
  return {
    length: words.length,
    features: extractFeatures(words, model.bits),
    tags: Int32Array.from(tags, (tag) => index.get(tag) ?? -1),
  };
}

/** A `LinearChainCrf` holding the model's current transition, start and end scores. */
export function crfOf(model: FeatureCrf): LinearChainCrf {
  return new LinearChainCrf({
    numTags: model.tags.length,
    transitions: model.transitions,
    start: model.start,
    end: model.end,
  });
}

/**
 * Emission scores of a batch, padded to its longest sentence.
 * Returns `data` with shape: [batch, steps, numTags], and one length per sentence.
 */
export function batchEmissions(
  model: FeatureCrf,
  batch: readonly EncodedSentence[],
): { data: Float64Array; dims: [number, number, number]; lengths: number[] } {
  const K = model.tags.length;
  const steps = Math.max(...batch.map((sentence) => sentence.length));
  const data = new Float64Array(batch.length * steps * K); // shape: [batch, steps, K]
  const { weights } = model;
  for (let b = 0; b < batch.length; b++) {
    const { length, features } = batch[b] as EncodedSentence;
    for (let t = 0; t < length; t++) {
      const out = (b * steps + t) * K;
      for (let f = 0; f < FEATURES_PER_TOKEN; f++) {
        const row = (features[t * FEATURES_PER_TOKEN + f] as number) * K;
        for (let k = 0; k < K; k++) data[out + k] = (data[out + k] as number) + (weights[row + k] as number);
      }
    }
  }
  return { data, dims: [batch.length, steps, K], lengths: batch.map((sentence) => sentence.length) };
}

/** The best tag sequence of each sentence (Viterbi), in batches of `batchSize`. */
export function predict(
  model: FeatureCrf,
  sentences: readonly EncodedSentence[],
  batchSize = 64,
): number[][] {
  const crf = crfOf(model);
  const paths: number[][] = [];
  for (let from = 0; from < sentences.length; from += batchSize) {
    const batch = sentences.slice(from, from + batchSize);
    const { data, dims, lengths } = batchEmissions(model, batch);
    paths.push(...crf.decode({ data, dims }, { lengths }).paths);
  }
  return paths;
}

/** Tags the words of one sentence with tag names. */
export function tagWords(model: FeatureCrf, words: readonly string[]): string[] {
  const encoded = encodeSentence(model, { words, tags: words.map(() => model.tags[0] as string) });
  const [path] = predict(model, [encoded]);
  return (path as number[]).map((k) => model.tags[k] as string);
}

/** Token accuracy of predicted tag indices against the sentences' gold tags. */
export function accuracy(
  predicted: readonly (readonly number[])[],
  gold: readonly EncodedSentence[],
): number {
  if (predicted.length !== gold.length) {
    throw new TaggerError("accuracy", "predicted", `${gold.length} sentences`, `${predicted.length}`);
  }
  let correct = 0;
  let total = 0;
  for (let s = 0; s < gold.length; s++) {
    const { tags, length } = gold[s] as EncodedSentence;
    const path = predicted[s] as readonly number[];
    if (path.length !== length) {
      throw new TaggerError("accuracy", `predicted[${s}]`, `${length} tags`, `${path.length}`);
    }
    for (let t = 0; t < length; t++) if (path[t] === tags[t]) correct++;
    total += length;
  }
  return total === 0 ? 0 : correct / total;
}
