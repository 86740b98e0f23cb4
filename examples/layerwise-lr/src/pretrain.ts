import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crossEntropy, gather, reshape } from "@xlt/graph";
import { BERT, flatten, HfEncoderModel, leaf, Random, savePretrained, subtree } from "@xlt/nn";
import { type Batch, compile, linearWarmupDecay, Trainer } from "@xlt/runtime";
import { maskTokens, trainTokenizer, type WordTokenizer } from "@xlt/tokenize";
import { StudyError } from "./errors.js";
import type { StudyOptions } from "./options.js";

/** What the cached encoder was pretrained with; a cache made otherwise is not reused. */
export interface PretrainingRecipe {
  readonly shape: StudyOptions["shape"];
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly maxTokens: number;
  readonly languages: readonly string[];
}

const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** The ids of BERT's special tokens in a tokenizer; a missing one is an error. */
export function specialIds(
  tokenizer: Pick<WordTokenizer, "tokenToId">,
): Record<(typeof SPECIALS)[number], number> {
  const ids = {} as Record<(typeof SPECIALS)[number], number>;
  for (const token of SPECIALS) {
    const id = tokenizer.tokenToId(token);
    if (id === undefined) throw new StudyError("specialIds", "tokenizer", `a ${token} token`, "none");
    ids[token] = id;
  }
  return ids;
}

/** Subword ids of sentences with `[CLS] … [SEP]`, cut to `maxTokens` (keeping `[SEP]`). */
function encodeText(
  tokenizer: WordTokenizer,
  sentences: readonly (readonly string[])[],
  maxTokens: number,
): number[][] {
  return sentences.map((words) => {
    const { ids } = tokenizer.encodeWords(words);
    return ids.length > maxTokens ? [...ids.slice(0, maxTokens - 1), ids[ids.length - 1] as number] : ids;
  });
}

/**
 * BERT's initialisation (Hugging Face's `_init_weights`): matrices and embedding tables N(0, 0.02),
 * LayerNorm gains 1, every other vector 0. (`@xlt/nn`'s defaults follow torch's layers, whose N(0, 1)
 * embeddings would make the tied masked-LM logits start far too large.)
 */
export function bertInitialValues(model: HfEncoderModel, seed: number): Map<string, Float32Array> {
  const random = new Random(seed);
  const values = new Map<string, Float32Array>();
  for (const [path, parameter] of flatten(model.parameters)) {
    const size = parameter.shape.reduce((product, dim) => product * dim, 1);
    const gain = /[nN]orm\.weight$/.test(path);
    values.set(
      path,
      parameter.shape.length === 2
        ? Float32Array.from({ length: size }, () => 0.02 * random.normal())
        : new Float32Array(size).fill(gain ? 1 : 0),
    );
  }
  return values;
}

/**
 * One masked-LM batch: 80/10/10 masking of `sequences` (seeded by the step), right-padded `ids` and
 * `mask` `[batch, steps]`, and the selected tokens only: their flat positions `row · steps + t` and
 * original ids (`positions`, `targets`, `[selected]`), so the vocabulary projection runs on the ~15%
 * of tokens that are predicted rather than on all of them. A batch with no selected token gets one
 * ignored target (-100).
 */
export function maskedBatch(
  sequences: readonly (readonly number[])[],
  ids: Record<(typeof SPECIALS)[number], number>,
  vocabSize: number,
  seed: number,
): Batch {
  const masked = maskTokens(
    sequences.map((sequence) => ({ ids: sequence })),
    {
      maskId: ids["[MASK]"],
      randomRange: [0, vocabSize],
      specialIds: [ids["[PAD]"], ids["[UNK]"], ids["[CLS]"], ids["[SEP]"]],
      seed,
    },
  );
  const steps = Math.max(1, ...sequences.map((sequence) => sequence.length));
  const size = sequences.length * steps;
  const input = new BigInt64Array(size).fill(BigInt(ids["[PAD]"]));
  const mask = new Uint8Array(size);
  const positions: bigint[] = [];
  const targets: bigint[] = [];
  for (const [row, sequence] of masked.entries()) {
    for (const [t, id] of sequence.ids.entries()) {
      input[row * steps + t] = BigInt(id);
      mask[row * steps + t] = 1;
      const label = sequence.labels[t] as number;
      if (label !== -100) {
        positions.push(BigInt(row * steps + t));
        targets.push(BigInt(label));
      }
    }
  }
  if (positions.length === 0) {
    positions.push(0n);
    targets.push(-100n);
  }
  const dims = [sequences.length, steps];
  return {
    ids: { data: input, dims },
    mask: { data: mask, dims },
    positions: { data: BigInt64Array.from(positions), dims: [positions.length] },
    targets: { data: BigInt64Array.from(targets), dims: [targets.length] },
  };
}

/** What pretraining reads of the study's options (other examples pass only these). */
export type PretrainingOptions = Pick<
  StudyOptions,
  "out" | "shape" | "pretrainSteps" | "pretrainBatch" | "pretrainLr" | "maxTokens" | "threads"
>;

/**
 * The pretrained encoder's directory (`<out>/pretrained`, Hugging Face layout: `config.json`,
 * `model.safetensors`, `tokenizer.json`), pretraining it first unless a cache made with the same
 * recipe is there. A WordPiece tokenizer is trained on all the text; a BERT masked-LM (tied output
 * embeddings) is trained for `options.pretrainSteps` steps of `options.pretrainBatch` sentences drawn
 * from all languages (shuffled, cycling), with linear warmup and decay. An interrupted pretraining
 * resumes from its checkpoints in `<out>/pretraining-run`.
 */
export async function ensurePretrained(
  options: PretrainingOptions,
  text: ReadonlyMap<string, readonly (readonly string[])[]>,
  log: (line: string) => void,
): Promise<string> {
  const directory = join(options.out, "pretrained");
  const recipe: PretrainingRecipe = {
    shape: options.shape,
    steps: options.pretrainSteps,
    batch: options.pretrainBatch,
    lr: options.pretrainLr,
    maxTokens: options.maxTokens,
    languages: [...text.keys()],
  };
  const recipePath = join(directory, "recipe.json");
  if (existsSync(recipePath)) {
    const cached = readFileSync(recipePath, "utf8");
    if (cached !== `${JSON.stringify(recipe, null, 2)}\n`)
      throw new StudyError(
        "ensurePretrained",
        directory,
        `an encoder pretrained with ${JSON.stringify(recipe)}`,
        `one pretrained with ${cached.trim()} (delete it or choose another --out)`,
      );
    log(`pretrained encoder: reusing ${directory}`);
    return directory;
  }
  const sentences = [...text.values()].flat();
  const { json, tokenizer } = trainTokenizer(sentences, {
    model: "wordpiece",
    vocabSize: options.shape.vocab,
  });
  const ids = specialIds(tokenizer);
  const sequences = encodeText(tokenizer, sentences, options.maxTokens);
  const { shape } = options;
  const model = new HfEncoderModel(
    {
      family: "bert",
      head: "masked-lm",
      vocabSize: tokenizer.vocabSize,
      hidden: shape.hidden,
      layers: shape.layers,
      heads: shape.heads,
      intermediate: shape.intermediate,
      maxPositions: shape.maxPositions,
      typeVocabSize: 2,
      padTokenId: ids["[PAD]"],
    },
    [],
  );
  log(
    `pretraining a ${shape.layers}-layer, hidden-${shape.hidden} BERT masked LM on ${sentences.length} sentences (${recipe.languages.join(", ")}), WordPiece vocabulary ${tokenizer.vocabSize}, ${options.pretrainSteps} steps of ${options.pretrainBatch}`,
  );
  const { encoder, head } = model.modules;
  if (!head) throw new StudyError("ensurePretrained", "model", "a masked-LM head", "none");
  const session = await compile(
    model,
    (params, { ids: input, mask, positions, targets }, context) => {
      const encoderParams = subtree(params, "encoder");
      const { hidden } = encoder.forward(encoderParams, { ids: input, mask }, context); // shape: [batch, steps, hidden]
      const selected = gather(reshape(hidden, [-1, shape.hidden]), positions); // shape: [selected, hidden]
      const wordEmbeddings = leaf(subtree(subtree(encoderParams, "embeddings"), "word"), "weight");
      const logits = head.forward(subtree(params, "head"), { hidden: selected, wordEmbeddings }, context); // shape: [selected, vocab]
      return { loss: crossEntropy(logits, targets, -100) };
    },
    {
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        mask: { dtype: "bool", shape: ["batch", "steps"] },
        positions: { dtype: "int64", shape: ["selected"] },
        targets: { dtype: "int64", shape: ["selected"] },
      },
      values: bertInitialValues(model, 1),
      optimizer: { kind: "adamw" },
      groups: [{ name: "all", match: /./, lr: options.pretrainLr, weightDecay: 0.01 }],
      clipNorm: 1,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    },
  );
  const runDirectory = join(options.out, "pretraining-run");
  const steps = options.pretrainSteps;
  const trainer = new Trainer({
    session,
    epochs: 1,
    seed: 1,
    schedule: linearWarmupDecay(Math.floor(steps / 10), steps),
    // One "epoch" of `steps` batches: sentences in shuffled order, reshuffled whenever they run out.
    batches: (_epoch, random: Random) => {
      const order: number[] = [];
      const batches: Batch[] = [];
      for (let step = 0; step < steps; step += 1) {
        const picked: number[][] = [];
        while (picked.length < options.pretrainBatch) {
          if (order.length === 0)
            order.push(...random.shuffle(Array.from({ length: sequences.length }, (_, i) => i)));
          picked.push(sequences[order.pop() as number] as number[]);
        }
        batches.push(maskedBatch(picked, ids, tokenizer.vocabSize, step));
      }
      return batches;
    },
    checkpointDir: runDirectory,
    checkpointEvery: 50,
    logFile: join(runDirectory, "log.jsonl"),
    progress: process.stderr,
  });
  const result = await trainer.run();
  log(
    `pretrained ${result.steps} steps${result.resumedFrom !== null ? ` (resumed from step ${result.resumedFrom})` : ""}`,
  );
  mkdirSync(directory, { recursive: true });
  await savePretrained(directory, { architecture: BERT, model, values: session.parameters });
  writeFileSync(join(directory, "tokenizer.json"), `${JSON.stringify(json)}\n`);
  writeFileSync(recipePath, `${JSON.stringify(recipe, null, 2)}\n`);
  await session.release();
  rmSync(runDirectory, { recursive: true, force: true });
  return directory;
}
