import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TagScheme } from "@xlt/crf";
import { dropout, equal, not, type Tensor } from "@xlt/graph";
import {
  type ForwardContext,
  flatten,
  type ParameterDType,
  type ParameterTree,
  type Random,
  readSafetensors,
  type SafetensorsTensor,
  subtree,
  type TensorTree,
  writeSafetensors,
} from "@xlt/nn";
import {
  type Batch,
  compile,
  type ExecutionProvider,
  type InputSpec,
  type LossResult,
  type OptimizerOptions,
  type ParameterGroup,
  type StepSession,
  type TrainingSession,
  writeFileAtomic,
} from "@xlt/runtime";
import { CharVocabulary, WordTokenizer } from "@xlt/tokenize";
import { CrfHead } from "./crf-head.js";
import { checkDropoutSeed, dropoutSeed } from "./dropout-seeds.js";
import { HeadsError } from "./errors.js";
import type { FloatArray, TaggingHead } from "./head.js";
import { BiLstm } from "./lstm.js";
import { ScalarMix, TokenScalarMix } from "./scalar-mix.js";
import { SoftmaxHead } from "./softmax-head.js";
import { WordVocabulary, type WordVocabularyJson } from "./vocabulary.js";
import { type CharEncoderKind, WordEncoder } from "./word-encoder.js";
import { embeddingFromVectors, type WordVectors } from "./word-vectors.js";

/** A sentence with one gold label per word. */
export interface LabelledSentence {
  readonly words: readonly string[];
  readonly tags: readonly string[];
}

/** The architecture of a {@link SequenceTagger}; everything but the vocabularies. */
export interface SequenceTaggerOptions {
  /** `"crf"` (default) or `"softmax"`. */
  readonly head?: "crf" | "softmax";
  /** A scheme whose transition constraints the CRF keeps in training and decoding (NER: `"BIO"`). */
  readonly scheme?: TagScheme;
  /** Word embedding size (default 64). */
  readonly wordDim?: number;
  /** Keep words seen at least this often in the training sentences (default 1). */
  readonly minCount?: number;
  /** Lowercase words before looking them up (default false; characters keep their case). */
  readonly lowercase?: boolean;
  /** A character-level word encoder, or none (default `"cnn"`). */
  readonly charEncoder?: CharEncoderKind | "none";
  /** Character embedding size (default 16). */
  readonly charDim?: number;
  /** Char BiLSTM hidden units per direction / char CNN filters (default 32). */
  readonly charHidden?: number;
  /** Char CNN window (default 3). */
  readonly cnnWidth?: number;
  /**
   * A subword tokenizer (e.g. one trained with `@xlt/tokenize`'s `trainTokenizer` on source and
   * target text): each word's representation then also holds the mean of its pieces' embeddings
   * (`encoder.subwords.weight`). Given to `create` only; the tagger keeps it in its config and saves
   * it as `tokenizer.json`.
   */
  readonly subwords?: WordTokenizer;
  /** Subword-piece embedding size: default 32 with `subwords`, and 0 (no subword encoder) without. */
  readonly subwordDim?: number;
  /** BiLSTM hidden units per direction (default 64). */
  readonly hidden?: number;
  /** BiLSTM layers (default 1). */
  readonly layers?: number;
  /**
   * Dropout on the word representations, between BiLSTM layers and before the head (default 0);
   * masks keyed by the optimizer step, so a resumed run draws the same masks as an uninterrupted one.
   */
  readonly dropout?: number;
  /**
   * What the head sees: the top BiLSTM layer (`"none"`, default), or a learned mix of all layers,
   * `"scalar"` ({@link ScalarMix}) or `"token"` ({@link TokenScalarMix}), under `mix.*`.
   */
  readonly layerMix?: "none" | "scalar" | "token";
  /**
   * Seed of the dropout masks (default 0), an integer in [0, `MAX_DROPOUT_SEED`]: each dropout site
   * gets its own seed `seed · DROPOUT_SITES + site` (0 before the BiLSTM, the layer index between
   * BiLSTM layers, `layers` before the head).
   */
  readonly seed?: number;
  readonly dtype?: ParameterDType;
}

/** Everything needed to rebuild a tagger: its resolved options and vocabularies (`config.json`). */
export interface SequenceTaggerConfig {
  readonly options: Required<Omit<SequenceTaggerOptions, "scheme" | "subwords">> & {
    readonly scheme: TagScheme | null;
  };
  readonly labels: readonly string[];
  readonly words: WordVocabularyJson;
  readonly chars: readonly string[];
  /** The subword tokenizer's `tokenizer.json` object, when `options.subwordDim > 0` (saved beside `config.json`). */
  readonly subwords?: Record<string, unknown>;
}

/** Learning rates of the four parameter groups; every trainable parameter is in exactly one. */
export interface TaggerLearningRates {
  /** Word and character embeddings and the character encoder (`encoder.*`). */
  readonly embeddings: number;
  /** The BiLSTM (`lstm.*`) and the layer mix (`mix.*`), if any. */
  readonly lstm: number;
  /** The emission layer (`head.emission.*`). */
  readonly emission: number;
  /** The CRF's transitions, start and end scores (`head.crf.*`). */
  readonly crf: number;
}

export interface TaggerCompileOptions {
  readonly learningRates: TaggerLearningRates;
  /** Default Adam. */
  readonly optimizer?: OptimizerOptions;
  /** Weight decay of every group (default 0). */
  readonly weightDecay?: number;
  readonly clipNorm?: number;
  /** Seed of the initial parameters (default 0); ignored when the tagger was loaded. */
  readonly seed?: number;
  /**
   * Initial word embeddings from aligned vectors (`readVectors` of a `.vec` file), their size equal
   * to `wordDim`; words without a vector start random. Applied over loaded values too.
   */
  readonly wordVectors?: WordVectors;
  readonly executionProvider?: ExecutionProvider;
  readonly threads?: number;
}

/** Predicted labels with the model's confidence in each (CRF marginals or softmax probabilities). */
export interface TaggerPrediction {
  readonly labels: string[][];
  readonly confidences: number[][];
}

function resolve(
  options: Omit<SequenceTaggerOptions, "subwords">,
  subwords: boolean,
): SequenceTaggerConfig["options"] {
  const value = {
    head: options.head ?? "crf",
    scheme: options.scheme ?? null,
    wordDim: options.wordDim ?? 64,
    minCount: options.minCount ?? 1,
    lowercase: options.lowercase ?? false,
    charEncoder: options.charEncoder ?? "cnn",
    charDim: options.charDim ?? 16,
    charHidden: options.charHidden ?? 32,
    cnnWidth: options.cnnWidth ?? 3,
    subwordDim: options.subwordDim ?? (subwords ? 32 : 0),
    hidden: options.hidden ?? 64,
    layers: options.layers ?? 1,
    dropout: options.dropout ?? 0,
    layerMix: options.layerMix ?? "none",
    seed: options.seed ?? 0,
    dtype: options.dtype ?? "float32",
  } as const;
  if (!["none", "scalar", "token"].includes(value.layerMix))
    throw new HeadsError(
      "SequenceTagger",
      "options.layerMix",
      '"none", "scalar" or "token"',
      JSON.stringify(value.layerMix),
    );
  checkDropoutSeed("SequenceTagger", "options.seed", value.seed);
  if (subwords ? !(Number.isInteger(value.subwordDim) && value.subwordDim >= 1) : value.subwordDim !== 0)
    throw new HeadsError(
      "SequenceTagger",
      "options.subwordDim",
      subwords ? "a positive integer (with subwords)" : "0 (no subwords tokenizer)",
      String(value.subwordDim),
    );
  if (value.head !== "crf" && value.head !== "softmax")
    throw new HeadsError("SequenceTagger", "options.head", '"crf" or "softmax"', JSON.stringify(value.head));
  if (value.scheme !== null && value.head !== "crf")
    throw new HeadsError("SequenceTagger", "options.scheme", "no scheme with a softmax head", value.scheme);
  return value;
}

/**
 * A BiLSTM tagger trained from scratch: a {@link WordEncoder} (word embeddings plus an optional
 * character BiLSTM or CNN), a {@link BiLstm} and a head ({@link CrfHead} or {@link SoftmaxHead}),
 * with parameters under `encoder.*`, `lstm.*` and `head.*`. It compiles with `@xlt/runtime` (one
 * parameter group per part, so the emission layer is never left out of the optimizer), turns
 * sentences into batches for the `Trainer`, predicts labels with confidences from the evaluation
 * graph's scores, and saves itself as `model.safetensors` + `config.json`.
 */
export class SequenceTagger {
  readonly parameters: ParameterTree;
  readonly config: SequenceTaggerConfig;
  readonly words: WordVocabulary;
  readonly chars: CharVocabulary | undefined;
  /** The subword tokenizer, when the tagger has a subword encoder. */
  readonly subwords: WordTokenizer | undefined;
  readonly head: TaggingHead;
  /** Parameter values the tagger was loaded with (compile starts from them). */
  readonly values: ReadonlyMap<string, FloatArray> | undefined;
  private readonly encoder: WordEncoder;
  private readonly lstm: BiLstm;
  private readonly mix: ScalarMix | TokenScalarMix | undefined;
  private readonly tagIds: ReadonlyMap<string, number>;

  constructor(config: SequenceTaggerConfig, values?: ReadonlyMap<string, FloatArray>) {
    const options = resolve(
      { ...config.options, scheme: config.options.scheme ?? undefined },
      config.subwords !== undefined,
    );
    this.config = { ...config, options };
    this.values = values;
    this.words = WordVocabulary.fromJSON(config.words);
    const spelled = options.charEncoder !== "none";
    this.chars = spelled ? new CharVocabulary(config.chars) : undefined;
    this.subwords = config.subwords ? new WordTokenizer(config.subwords) : undefined;
    this.encoder = new WordEncoder({
      words: this.words.size,
      wordDim: options.wordDim,
      dtype: options.dtype,
      // Piece ids are shifted by one: 0 pads the rows of `pieces`.
      ...(this.subwords ? { subwords: this.subwords.vocabSize + 1, subwordDim: options.subwordDim } : {}),
      ...(spelled
        ? {
            chars: (this.chars as CharVocabulary).size,
            charEncoder: options.charEncoder as CharEncoderKind,
            charDim: options.charDim,
            charHidden: options.charHidden,
            cnnWidth: options.cnnWidth,
          }
        : {}),
    });
    this.lstm = new BiLstm({
      inputSize: this.encoder.outputSize,
      hiddenSize: options.hidden,
      layers: options.layers,
      dropout: options.dropout,
      seed: options.seed,
      dtype: options.dtype,
    });
    const dtype = options.dtype;
    this.mix =
      options.layerMix === "scalar"
        ? new ScalarMix(options.layers, { dtype })
        : options.layerMix === "token"
          ? new TokenScalarMix(options.layers, this.lstm.outputSize, { dtype })
          : undefined;
    const headOptions = { inputSize: this.lstm.outputSize, labels: config.labels, dtype: options.dtype };
    this.head =
      options.head === "crf"
        ? new CrfHead({ ...headOptions, ...(options.scheme ? { scheme: options.scheme } : {}) })
        : new SoftmaxHead(headOptions);
    this.tagIds = new Map(config.labels.map((label, id) => [label, id]));
    this.parameters = {
      encoder: this.encoder.parameters,
      lstm: this.lstm.parameters,
      ...(this.mix ? { mix: this.mix.parameters } : {}),
      head: this.head.parameters,
    };
  }

  /** A new tagger whose vocabularies (words, characters, labels) come from `sentences`. */
  static create(sentences: readonly LabelledSentence[], options: SequenceTaggerOptions = {}): SequenceTagger {
    const { subwords, ...rest } = options;
    const resolved = resolve(rest, subwords !== undefined);
    const words = WordVocabulary.fromSentences(
      sentences.map((s) => s.words),
      { minCount: resolved.minCount, lowercase: resolved.lowercase },
    );
    const chars = CharVocabulary.fromWords(sentences.map((s) => s.words));
    const labels = [...new Set(sentences.flatMap((s) => s.tags))].sort();
    return new SequenceTagger({
      options: resolved,
      labels,
      words: words.toJSON(),
      chars: [...chars.chars],
      ...(subwords ? { subwords: subwords.toJSON() } : {}),
    });
  }

  /** The batch inputs `compile` declares. */
  get inputs(): Readonly<Record<string, InputSpec>> {
    const step: InputSpec = { dtype: "int64", shape: ["batch", "steps"] };
    return {
      words: step,
      ...(this.chars ? { chars: { dtype: "int64", shape: ["words", "chars"] }, charRows: step } : {}),
      ...(this.subwords ? { pieces: { dtype: "int64", shape: ["words", "pieces"] }, pieceRows: step } : {}),
      tags: step,
    };
  }

  /** The loss function `compile` takes; its output `scores` `[batch, steps, K]` are what `predict` decodes. */
  readonly loss = (
    params: TensorTree,
    inputs: Readonly<Record<string, Tensor>>,
    context: ForwardContext,
  ): LossResult => {
    const words = inputs.words as Tensor;
    const mask = not(equal(words, 0)); // shape: [batch, steps]
    const { dropout: rate, seed } = this.config.options;
    const encoded = this.encoder.forward(
      subtree(params, "encoder"),
      {
        words,
        ...(inputs.chars ? { chars: inputs.chars, charRows: inputs.charRows as Tensor } : {}),
        ...(inputs.pieces ? { pieces: inputs.pieces, pieceRows: inputs.pieceRows as Tensor } : {}),
      },
      context,
    ); // shape: [batch, steps, features]
    const x = dropout(encoded, rate, dropoutSeed(seed, 0), context.training, context.key);
    const { output: top, layers } = this.lstm.forward(subtree(params, "lstm"), { x, mask }, context);
    const output = this.mix ? this.mix.forward(subtree(params, "mix"), layers) : top;
    const site = this.config.options.layers; // one past the BiLSTM's sites
    const features = dropout(output, rate, dropoutSeed(seed, site), context.training, context.key); // shape: [batch, steps, 2H]
    const head = subtree(params, "head");
    const scores = this.head.forward(head, features); // shape: [batch, steps, K]
    return { loss: this.head.loss(head, { scores, tags: inputs.tags as Tensor, mask }), outputs: { scores } };
  };

  /** One group per part: `embeddings`, `lstm`, `emission`, `crf` (the last empty with a softmax head). */
  groups(rates: TaggerLearningRates, weightDecay = 0): ParameterGroup[] {
    const group = (name: string, match: RegExp, lr: number): ParameterGroup => ({
      name,
      match,
      lr,
      weightDecay,
    });
    return [
      group("embeddings", /^encoder\./, rates.embeddings),
      group("lstm", /^(lstm|mix)\./, rates.lstm),
      group("emission", /^head\.emission\./, rates.emission),
      group("crf", /^head\.crf\./, rates.crf),
    ];
  }

  /** Compiles the training and evaluation steps (from the loaded values, if any). */
  async compile(options: TaggerCompileOptions): Promise<TrainingSession> {
    const values = new Map<string, FloatArray>(this.values ?? []);
    if (options.wordVectors) {
      const { dim } = options.wordVectors;
      if (dim !== this.config.options.wordDim)
        throw new HeadsError(
          "SequenceTagger.compile",
          "options.wordVectors",
          `vectors of wordDim = ${this.config.options.wordDim}`,
          `dim ${dim}`,
        );
      values.set(
        "encoder.words.weight",
        embeddingFromVectors(this.words, options.wordVectors, { seed: options.seed ?? 0 }).weight,
      );
    }
    return compile(this, this.loss, {
      inputs: this.inputs,
      optimizer: options.optimizer ?? { kind: "adam" },
      groups: this.groups(options.learningRates, options.weightDecay),
      ...(options.clipNorm !== undefined ? { clipNorm: options.clipNorm } : {}),
      seed: options.seed ?? 0,
      ...(values.size > 0 ? { values } : {}),
      ...(options.executionProvider ? { executionProvider: options.executionProvider } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    });
  }

  /** The batch of `sentences` (gold tags optional: zeros when absent). Every sentence needs a word. */
  encode(sentences: readonly (LabelledSentence | { readonly words: readonly string[] })[]): Batch {
    const B = sentences.length;
    if (B === 0) throw new HeadsError("SequenceTagger.encode", "sentences", "at least one sentence", "none");
    const T = Math.max(...sentences.map((s) => s.words.length));
    const words = new BigInt64Array(B * T);
    const tags = new BigInt64Array(B * T);
    const charRows = new BigInt64Array(B * T);
    const spelled: string[] = [];
    for (const [b, sentence] of sentences.entries()) {
      if (sentence.words.length === 0)
        throw new HeadsError("SequenceTagger.encode", `sentences[${b}]`, "at least one word", "none");
      const gold = "tags" in sentence ? sentence.tags : undefined;
      if (gold && gold.length !== sentence.words.length)
        throw new HeadsError(
          "SequenceTagger.encode",
          `sentences[${b}].tags`,
          `${sentence.words.length} tags`,
          String(gold.length),
        );
      for (const [t, word] of sentence.words.entries()) {
        words[b * T + t] = BigInt(this.words.id(word));
        charRows[b * T + t] = BigInt(spelled.length);
        spelled.push(word);
        if (gold) {
          const id = this.tagIds.get(gold[t] as string);
          if (id === undefined)
            throw new HeadsError(
              "SequenceTagger.encode",
              `sentences[${b}].tags[${t}]`,
              `one of ${this.config.labels.join(", ")}`,
              JSON.stringify(gold[t]),
            );
          tags[b * T + t] = BigInt(id);
        }
      }
    }
    const batch: Record<string, { data: BigInt64Array; dims: number[] }> = {
      words: { data: words, dims: [B, T] },
      tags: { data: tags, dims: [B, T] },
    };
    if (this.chars) {
      const charBatch = this.chars.encodeBatch([spelled]);
      const [, count, width] = charBatch.dims;
      // At least one column: ORT's Scan cannot run zero steps (words that are all padding are fine).
      batch.chars =
        width > 0
          ? { data: BigInt64Array.from(charBatch.ids, (id) => BigInt(id)), dims: [count, width] }
          : { data: new BigInt64Array(count), dims: [count, 1] };
      batch.charRows = { data: charRows, dims: [B, T] };
    }
    if (this.subwords) Object.assign(batch, this.encodePieces(sentences, T));
    return batch;
  }

  /**
   * Each word's subword-piece ids (tokenizer ids + 1, 0-padded), one row per word in batch order,
   * and the row of each step. shape: pieces [words, pieces], pieceRows [batch, steps]
   */
  private encodePieces(
    sentences: readonly { readonly words: readonly string[] }[],
    T: number,
  ): Record<"pieces" | "pieceRows", { data: BigInt64Array; dims: number[] }> {
    const tokenizer = this.subwords as WordTokenizer;
    const rows: number[][] = [];
    const pieceRows = new BigInt64Array(sentences.length * T);
    for (const [b, sentence] of sentences.entries()) {
      const { ids, wordIds } = tokenizer.encodeWords(sentence.words, { addSpecialTokens: false });
      const first = rows.length;
      for (const [t] of sentence.words.entries()) {
        pieceRows[b * T + t] = BigInt(first + t);
        rows.push([]);
      }
      for (const [i, word] of wordIds.entries())
        if (word !== null) rows[first + word]?.push((ids[i] as number) + 1);
    }
    const width = Math.max(1, ...rows.map((row) => row.length));
    const pieces = new BigInt64Array(rows.length * width);
    for (const [r, row] of rows.entries())
      for (const [p, id] of row.entries()) pieces[r * width + p] = BigInt(id);
    return {
      pieces: { data: pieces, dims: [rows.length, width] },
      pieceRows: { data: pieceRows, dims: [sentences.length, T] },
    };
  }

  /** Batches of `size` sentences in an order drawn from `random` (the Trainer's), or in order. */
  batches(sentences: readonly LabelledSentence[], size: number, random?: Random): Batch[] {
    if (!(Number.isInteger(size) && size >= 1))
      throw new HeadsError("SequenceTagger.batches", "size", "a positive integer", String(size));
    const order = sentences.map((_, index) => index);
    if (random) {
      for (let i = order.length - 1; i > 0; i -= 1) {
        const j = random.integer(i + 1);
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
    }
    const out: Batch[] = [];
    for (let start = 0; start < order.length; start += size)
      out.push(
        this.encode(order.slice(start, start + size).map((index) => sentences[index] as LabelledSentence)),
      );
    return out;
  }

  /** Labels and confidences of `sentences` from the session's evaluation graph and current parameters. */
  async predict(
    session: StepSession,
    sentences: readonly { readonly words: readonly string[] }[],
    batchSize = 32,
  ): Promise<TaggerPrediction> {
    const { tensors } = await session.snapshot();
    const labels: string[][] = [];
    const confidences: number[][] = [];
    for (let start = 0; start < sentences.length; start += batchSize) {
      const chunk = sentences.slice(start, start + batchSize);
      const outputs = await session.evalStep(this.encode(chunk.map((s) => ({ words: s.words }))));
      const scores = outputs.scores;
      if (!scores || !(scores.data instanceof Float32Array || scores.data instanceof Float64Array))
        throw new HeadsError(
          "SequenceTagger.predict",
          "session",
          "an evaluation output named scores",
          "none",
        );
      const decoded = this.head.decode(
        tensors,
        { data: scores.data, dims: scores.dims },
        chunk.map((s) => s.words.length),
        "head.",
      );
      for (const [index, path] of decoded.paths.entries()) {
        labels.push(path.map((id) => this.config.labels[id] as string));
        confidences.push(decoded.confidences[index] as number[]);
      }
    }
    return { labels, confidences };
  }

  /**
   * Writes `model.safetensors` (the session's parameters) and `config.json` to `directory`, and the
   * subword tokenizer as `tokenizer.json` (a stale one is removed when the tagger has none).
   */
  async save(directory: string, session: StepSession): Promise<void> {
    const { tensors } = await session.snapshot();
    const stored = new Map<string, SafetensorsTensor>();
    for (const [path, parameter] of flatten(this.parameters)) {
      const data = tensors.get(path);
      if (!data) throw new HeadsError("SequenceTagger.save", "session", `a value for ${path}`, "none");
      stored.set(
        path,
        data instanceof Float32Array
          ? { dtype: "F32", shape: parameter.shape, data }
          : { dtype: "F64", shape: parameter.shape, data },
      );
    }
    mkdirSync(directory, { recursive: true });
    writeFileAtomic(join(directory, "model.safetensors"), writeSafetensors(stored, { format: "xlt-heads" }));
    const { subwords, ...config } = this.config;
    writeFileAtomic(join(directory, "config.json"), `${JSON.stringify(config, null, 1)}\n`);
    const tokenizerFile = join(directory, "tokenizer.json");
    if (subwords) writeFileAtomic(tokenizerFile, `${JSON.stringify(subwords)}\n`);
    else rmSync(tokenizerFile, { force: true });
  }

  /** A tagger saved by {@link save}, with its parameter values (compile starts from them). */
  static load(directory: string): SequenceTagger {
    const config: SequenceTaggerConfig = JSON.parse(readFileSync(join(directory, "config.json"), "utf8"));
    for (const key of ["options", "labels", "words", "chars"] as const) {
      if (typeof config?.[key] !== "object" || config[key] === null)
        throw new HeadsError(
          "SequenceTagger.load",
          `config.json ${key}`,
          "an object or array",
          String(config?.[key]),
        );
    }
    const tokenizerFile = join(directory, "tokenizer.json");
    const subwordDim = config.options?.subwordDim ?? 0;
    if (subwordDim > 0 && !existsSync(tokenizerFile))
      throw new HeadsError(
        "SequenceTagger.load",
        "tokenizer.json",
        `the subword tokenizer (config.json has subwordDim ${subwordDim})`,
        "no such file",
      );
    const subwords: Record<string, unknown> | undefined =
      subwordDim > 0 ? JSON.parse(readFileSync(tokenizerFile, "utf8")) : undefined;
    const { tensors } = readSafetensors(readFileSync(join(directory, "model.safetensors")));
    const values = new Map<string, FloatArray>();
    for (const [name, tensor] of tensors) {
      if (tensor.dtype !== "F32" && tensor.dtype !== "F64")
        throw new HeadsError("SequenceTagger.load", name, "an F32 or F64 tensor", tensor.dtype);
      values.set(name, tensor.data);
    }
    const tagger = new SequenceTagger(subwords ? { ...config, subwords } : config, values);
    for (const [path] of flatten(tagger.parameters)) {
      if (!values.has(path))
        throw new HeadsError("SequenceTagger.load", "model.safetensors", `a tensor ${path}`, "none");
    }
    return tagger;
  }
}
