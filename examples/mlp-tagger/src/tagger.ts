import type { TaggedSentence } from "@xlt/data";
import { concat, crossEntropy, reshape, type Tensor } from "@xlt/graph";
import { Embedding, type ForwardContext, Mlp, type ParameterTree, subtree, type TensorTree } from "@xlt/nn";
import type { Batch, StepSession } from "@xlt/runtime";
import { TaggerError } from "./errors.js";

/** Words on each side of the tagged word that the window sees. */
export const CONTEXT = 2;
const WIDTH = 2 * CONTEXT + 1;
const PAD = "<pad>";
const UNKNOWN = "<unk>";

/** Vocabularies of a training set: word forms seen at least `minCount` times, suffixes, tags. */
export interface Vocabulary {
  readonly words: ReadonlyMap<string, number>;
  readonly suffixes: ReadonlyMap<string, number>;
  readonly tags: readonly string[];
}

function index(items: Iterable<string>): Map<string, number> {
  return new Map([PAD, UNKNOWN, ...items].map((item, position) => [item, position]));
}

const suffixOf = (word: string) => word.toLowerCase().slice(-3);

export function buildVocabulary(sentences: readonly TaggedSentence[], minCount = 2): Vocabulary {
  const counts = new Map<string, number>();
  const suffixes = new Set<string>();
  const tags = new Set<string>();
  for (const { words, tags: sentenceTags } of sentences) {
    for (const word of words) {
      const key = word.toLowerCase();
      counts.set(key, (counts.get(key) ?? 0) + 1);
      suffixes.add(suffixOf(word));
    }
    for (const tag of sentenceTags) tags.add(tag);
  }
  const frequent = [...counts].filter(([, count]) => count >= minCount).map(([word]) => word);
  return { words: index(frequent.sort()), suffixes: index([...suffixes].sort()), tags: [...tags].sort() };
}

/** One example per token: the ids of the words in its window, its suffix id, its tag id. */
export interface Examples {
  readonly windows: BigInt64Array; // shape: [tokens, WIDTH]
  readonly suffixes: BigInt64Array; // shape: [tokens]
  readonly tags: BigInt64Array; // shape: [tokens]
  readonly count: number;
}

export function encode(vocabulary: Vocabulary, sentences: readonly TaggedSentence[]): Examples {
  const windows: bigint[] = [];
  const suffixes: bigint[] = [];
  const tags: bigint[] = [];
  const wordId = (word: string | undefined) =>
    BigInt(word === undefined ? 0 : (vocabulary.words.get(word.toLowerCase()) ?? 1));
  for (const { words, tags: sentenceTags } of sentences) {
    for (const [position, word] of words.entries()) {
      for (let offset = -CONTEXT; offset <= CONTEXT; offset += 1)
        windows.push(wordId(words[position + offset]));
      suffixes.push(BigInt(vocabulary.suffixes.get(suffixOf(word)) ?? 1));
      tags.push(BigInt(vocabulary.tags.indexOf(sentenceTags[position] ?? "")));
    }
  }
  return {
    windows: BigInt64Array.from(windows),
    suffixes: BigInt64Array.from(suffixes),
    tags: BigInt64Array.from(tags),
    count: tags.length,
  };
}

/** Batches of the examples at `order` (a permutation of example indices). */
export function batches(examples: Examples, order: readonly number[], size: number): Batch[] {
  const out: Batch[] = [];
  for (let start = 0; start < order.length; start += size) {
    const rows = order.slice(start, start + size);
    const windows = new BigInt64Array(rows.length * WIDTH);
    rows.forEach((row, i) => {
      windows.set(examples.windows.subarray(row * WIDTH, row * WIDTH + WIDTH), i * WIDTH);
    });
    out.push({
      windows: { data: windows, dims: [rows.length, WIDTH] },
      suffixes: {
        data: BigInt64Array.from(rows, (row) => examples.suffixes[row] ?? 0n),
        dims: [rows.length],
      },
      tags: { data: BigInt64Array.from(rows, (row) => examples.tags[row] ?? 0n), dims: [rows.length] },
    });
  }
  return out;
}

/**
 * Word embeddings of the window (concatenated) and a suffix embedding feed an MLP that scores the
 * tags of the centre word.
 */
export class WindowTagger {
  readonly parameters: ParameterTree;
  private readonly words: Embedding;
  private readonly suffixes: Embedding;
  private readonly mlp: Mlp;

  constructor(
    vocabulary: Vocabulary,
    options: { wordDim?: number; suffixDim?: number; hidden?: number; dropout?: number } = {},
  ) {
    const wordDim = options.wordDim ?? 32;
    const suffixDim = options.suffixDim ?? 16;
    this.words = new Embedding(vocabulary.words.size, wordDim);
    this.suffixes = new Embedding(vocabulary.suffixes.size, suffixDim);
    this.mlp = new Mlp([WIDTH * wordDim + suffixDim, options.hidden ?? 128, vocabulary.tags.length], {
      activation: "relu",
      dropout: options.dropout ?? 0.2,
      seed: 1,
    });
    this.parameters = {
      words: this.words.parameters,
      suffixes: this.suffixes.parameters,
      mlp: this.mlp.parameters,
    };
  }

  /** Tag scores `[batch, tags]`. */
  logits(params: TensorTree, windows: Tensor, suffixes: Tensor, context: ForwardContext): Tensor {
    const words = reshape(this.words.forward(subtree(params, "words"), windows), [0, -1]); // shape: [batch, WIDTH·wordDim]
    const suffix = this.suffixes.forward(subtree(params, "suffixes"), suffixes); // shape: [batch, suffixDim]
    return this.mlp.forward(subtree(params, "mlp"), concat([words, suffix], 1), context);
  }

  /** The loss function `compile` takes: mean cross-entropy, with the logits as an output. */
  readonly loss = (
    params: TensorTree,
    inputs: Readonly<Record<"windows" | "suffixes" | "tags", Tensor>>,
    context: ForwardContext,
  ) => {
    const logits = this.logits(params, inputs.windows, inputs.suffixes, context);
    return { loss: crossEntropy(logits, inputs.tags), outputs: { logits } };
  };
}

/** The input declarations `compile` takes. */
export const INPUTS = {
  windows: { dtype: "int64", shape: ["batch", WIDTH] },
  suffixes: { dtype: "int64", shape: ["batch"] },
  tags: { dtype: "int64", shape: ["batch"] },
} as const;

/** The most-frequent-tag baseline's token accuracy (unseen words get the most frequent tag overall). */
export function baselineAccuracy(
  training: readonly TaggedSentence[],
  test: readonly TaggedSentence[],
): number {
  const counts = new Map<string, Map<string, number>>();
  const overall = new Map<string, number>();
  for (const { words, tags } of training) {
    for (const [i, word] of words.entries()) {
      const tag = tags[i] ?? "";
      const forWord = counts.get(word) ?? new Map<string, number>();
      forWord.set(tag, (forWord.get(tag) ?? 0) + 1);
      counts.set(word, forWord);
      overall.set(tag, (overall.get(tag) ?? 0) + 1);
    }
  }
  const best = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? "";
  const fallback = best(overall);
  let correct = 0;
  let total = 0;
  for (const { words, tags } of test) {
    for (const [i, word] of words.entries()) {
      const forWord = counts.get(word);
      if ((forWord ? best(forWord) : fallback) === tags[i]) correct += 1;
      total += 1;
    }
  }
  return correct / total;
}

/** Token accuracy of argmax predictions from logits `[n, tags]` against gold ids. */
export function accuracyOf(logits: Float32Array, gold: BigInt64Array, tags: number): number {
  let correct = 0;
  for (let row = 0; row < gold.length; row += 1) {
    let best = 0;
    for (let tag = 1; tag < tags; tag += 1)
      if ((logits[row * tags + tag] ?? 0) > (logits[row * tags + best] ?? 0)) best = tag;
    if (BigInt(best) === gold[row]) correct += 1;
  }
  return correct / gold.length;
}

/**
 * Token accuracy of `session`'s evaluation-mode predictions over all of `examples`, in batches of
 * 2048. Every batch must give float32 `logits` `[n, tags]`: one that does not throws rather than
 * counting its tokens as wrong.
 */
export async function datasetAccuracy(
  session: Pick<StepSession, "evalStep">,
  examples: Examples,
  tags: number,
): Promise<number> {
  const order = Array.from({ length: examples.count }, (_, i) => i);
  let correct = 0;
  let start = 0;
  for (const batch of batches(examples, order, 2048)) {
    const { logits } = await session.evalStep(batch);
    const gold = examples.tags.subarray(start, start + (batch.tags?.dims[0] ?? 0));
    start += gold.length;
    if (!(logits?.data instanceof Float32Array) || logits.data.length !== gold.length * tags) {
      const got = logits ? `${logits.data.constructor.name} of ${logits.data.length} values` : "no logits";
      throw new TaggerError(
        "datasetAccuracy",
        "session",
        `float32 logits of ${gold.length * tags} values`,
        got,
      );
    }
    correct += accuracyOf(logits.data, gold, tags) * gold.length;
  }
  return correct / examples.count;
}
