import {
  add,
  cast,
  concat,
  div,
  equal,
  gather,
  greater,
  matmul,
  not,
  reduceMax,
  reduceSum,
  relu,
  slice,
  type Tensor,
  unsqueeze,
  where,
  zerosLike,
} from "@xlt/graph";
import {
  Embedding,
  type ForwardContext,
  fanInUniform,
  leaf,
  type Module,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  subtree,
  type TensorTree,
} from "@xlt/nn";
import { HeadsError } from "./errors.js";
import { joinLast } from "./join.js";
import { BiLstm } from "./lstm.js";

/** How words are spelled out: a character BiLSTM's final states, or a character CNN with max pooling. */
export type CharEncoderKind = "bilstm" | "cnn";

export interface WordEncoderOptions {
  /** Ids in the word embedding table (padding and unknown included). */
  readonly words: number;
  readonly wordDim: number;
  /** Ids in the character table; with `charEncoder`. */
  readonly chars?: number;
  readonly charEncoder?: CharEncoderKind;
  /** Character embedding size (default 16). */
  readonly charDim?: number;
  /** Hidden units per direction of the char BiLSTM, or filters of the char CNN (default 16). */
  readonly charHidden?: number;
  /** Width of the char CNN's window, odd (default 3). */
  readonly cnnWidth?: number;
  /** Ids in the subword-piece table, 0 being padding; with it each word also gets the mean of its pieces' embeddings. */
  readonly subwords?: number;
  /** Subword-piece embedding size (default 32); with `subwords`. */
  readonly subwordDim?: number;
  readonly dtype?: ParameterDType;
}

/** What {@link WordEncoder.forward} takes. */
export interface WordEncoderInput {
  /** int64 word ids. shape: [batch, steps] */
  readonly words: Tensor;
  /** int64 character ids of the batch's words, one row each, 0-padded. shape: [words, chars] */
  readonly chars?: Tensor;
  /** int64 row of `chars` that spells each step's word (any row on padded steps). shape: [batch, steps] */
  readonly charRows?: Tensor;
  /** int64 subword-piece ids of the batch's words, one row each, 0-padded (every row has a piece). shape: [words, pieces] */
  readonly pieces?: Tensor;
  /** int64 row of `pieces` that holds each step's word (any row on padded steps). shape: [batch, steps] */
  readonly pieceRows?: Tensor;
}

/**
 * The word representation of a tagger trained from scratch (Lample et al. 2016; Ma & Hovy 2016): a
 * word embedding (`words.weight`), concatenated with a character-level encoding of each word
 * spelled out: the final forward and backward states of a character BiLSTM (`charLstm.*`), or a
 * character CNN (`charCnn.weight [width·charDim, filters]`, `charCnn.bias`) with ReLU and max
 * pooling over the word's characters. Character ids 0 are padding and never reach either. With
 * `subwords`, each word's representation also holds the mean of its subword pieces' embeddings
 * (`subwords.weight [subwords, subwordDim]`; piece id 0 is padding and never counts), as a shared
 * subword vocabulary trained on source and target text lets related words share parameters.
 */
export class WordEncoder implements Module<WordEncoderInput, Tensor> {
  readonly parameters: ParameterTree;
  readonly outputSize: number;
  readonly charEncoder: CharEncoderKind | undefined;
  private readonly wordEmbedding: Embedding;
  private readonly charEmbedding: Embedding | undefined;
  private readonly charLstm: BiLstm | undefined;
  private readonly cnnWidth: number;
  private readonly subwordEmbedding: Embedding | undefined;

  constructor(options: WordEncoderOptions) {
    const dtype = options.dtype ?? "float32";
    this.wordEmbedding = new Embedding(options.words, options.wordDim, { dtype });
    this.charEncoder = options.charEncoder;
    this.cnnWidth = options.cnnWidth ?? 3;
    const tree: Record<string, ParameterTree> = { words: this.wordEmbedding.parameters };
    let size = options.wordDim;
    if (options.charEncoder) {
      if (!(options.charEncoder === "bilstm" || options.charEncoder === "cnn"))
        throw new HeadsError(
          "WordEncoder",
          "options.charEncoder",
          '"bilstm" or "cnn"',
          JSON.stringify(options.charEncoder),
        );
      if (options.chars === undefined)
        throw new HeadsError(
          "WordEncoder",
          "options.chars",
          "the size of the character vocabulary",
          "nothing",
        );
      const charDim = options.charDim ?? 16;
      const hidden = options.charHidden ?? 16;
      this.charEmbedding = new Embedding(options.chars, charDim, { dtype });
      tree.chars = this.charEmbedding.parameters;
      if (options.charEncoder === "bilstm") {
        this.charLstm = new BiLstm({ inputSize: charDim, hiddenSize: hidden, dtype });
        tree.charLstm = this.charLstm.parameters;
        size += this.charLstm.outputSize;
      } else {
        if (!(Number.isInteger(this.cnnWidth) && this.cnnWidth >= 1 && this.cnnWidth % 2 === 1))
          throw new HeadsError(
            "WordEncoder",
            "options.cnnWidth",
            "an odd positive integer",
            String(this.cnnWidth),
          );
        const fanIn = this.cnnWidth * charDim;
        tree.charCnn = {
          weight: new Parameter([fanIn, hidden], { init: fanInUniform(fanIn), dtype }),
          bias: new Parameter([hidden], { init: fanInUniform(fanIn), dtype, decay: false }),
        };
        size += hidden;
      }
    }
    if (options.subwords !== undefined) {
      if (!(Number.isInteger(options.subwords) && options.subwords >= 2))
        throw new HeadsError(
          "WordEncoder",
          "options.subwords",
          "an integer >= 2 (padding and at least one piece)",
          String(options.subwords),
        );
      const subwordDim = options.subwordDim ?? 32;
      if (!(Number.isInteger(subwordDim) && subwordDim >= 1))
        throw new HeadsError("WordEncoder", "options.subwordDim", "a positive integer", String(subwordDim));
      this.subwordEmbedding = new Embedding(options.subwords, subwordDim, { dtype });
      tree.subwords = this.subwordEmbedding.parameters;
      size += subwordDim;
    }
    this.parameters = tree;
    this.outputSize = size;
  }

  /** Word representations. shape: [batch, steps, outputSize] */
  forward(params: TensorTree, input: WordEncoderInput, context: ForwardContext): Tensor {
    const embedded = this.wordEmbedding.forward(subtree(params, "words"), input.words); // shape: [batch, steps, wordDim]
    const pieces = this.subwordEmbedding ? [this.meanPieces(params, input)] : [];
    if (!this.charEmbedding) return pieces.length === 0 ? embedded : joinLast([embedded, ...pieces]);
    const { chars, charRows } = input;
    if (!chars || !charRows)
      throw new HeadsError(
        "WordEncoder.forward",
        "input",
        "chars and charRows (the encoder spells words)",
        "none",
      );
    const charMask = not(equal(chars, 0)); // shape: [words, chars]
    let spelled: Tensor; // shape: [words, F]
    if (this.charLstm) {
      const x = this.charEmbedding.forward(subtree(params, "chars"), chars); // shape: [words, chars, charDim]
      const { hidden } = this.charLstm.forward(subtree(params, "charLstm"), { x, mask: charMask }, context);
      spelled = joinLast(hidden);
    } else {
      const cnn = subtree(params, "charCnn");
      const w = this.cnnWidth;
      const half = (w - 1) / 2;
      // Zero ids on both sides, so every window is a slice of one padded tensor and the slices'
      // symbolic lengths agree.
      const zeros = Array.from({ length: half }, () => zerosLike(slice(chars, 1, 0, 1))); // shape: [words, 1]
      const paddedIds = concat([...zeros, chars, ...zeros], 1); // shape: [words, chars + w - 1]
      const paddedReal = not(equal(paddedIds, 0)); // shape: [words, chars + w - 1]
      // Padding characters embed as zeros, as a zero-padded convolution sees them.
      const padded = where(
        unsqueeze(paddedReal, [-1]),
        this.charEmbedding.forward(subtree(params, "chars"), paddedIds),
        0,
      ); // shape: [words, chars + w - 1, charDim]
      const window = (t: Tensor, j: number) => (j === w - 1 ? slice(t, 1, j) : slice(t, 1, j, j - (w - 1)));
      const windows = concat(
        Array.from({ length: w }, (_, j) => window(padded, j)),
        2,
      ); // shape: [words, chars, w·charDim]
      const real = window(paddedReal, half); // shape: [words, chars]
      const filtered = relu(add(matmul(windows, leaf(cnn, "weight")), leaf(cnn, "bias"))); // shape: [words, chars, filters]
      // ReLU outputs are >= 0, so 0 on padded characters never beats a real one's maximum.
      spelled = reduceMax(where(unsqueeze(real, [-1]), filtered, 0), [1]);
    }
    const perStep = gather(spelled, charRows); // shape: [batch, steps, F]
    return joinLast([embedded, perStep, ...pieces]);
  }

  /** The mean of each step's word's piece embeddings. shape: [batch, steps, subwordDim] */
  private meanPieces(params: TensorTree, input: WordEncoderInput): Tensor {
    const { pieces, pieceRows } = input;
    if (!pieces || !pieceRows)
      throw new HeadsError(
        "WordEncoder.forward",
        "input",
        "pieces and pieceRows (the encoder has subwords)",
        "none",
      );
    const table = this.subwordEmbedding as Embedding;
    const real = not(equal(pieces, 0)); // shape: [words, pieces]
    const embedded = table.forward(subtree(params, "subwords"), pieces); // shape: [words, pieces, subwordDim]
    const summed = reduceSum(where(unsqueeze(real, [-1]), embedded, 0), [1]); // shape: [words, subwordDim]
    const counts = reduceSum(cast(real, embedded.dtype), [1], true); // shape: [words, 1]
    // A row without pieces (never made by SequenceTagger) gives 0 rather than 0/0.
    const mean = div(summed, where(greater(counts, 0), counts, 1)); // shape: [words, subwordDim]
    return gather(mean, pieceRows);
  }
}
