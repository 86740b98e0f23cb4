import type { TaggedSentence } from "@xlt/data";
import {
  accuracy,
  type EncodedSentence,
  encodeTagged,
  familyOf,
  maskedBatch,
  taggingBatches,
} from "@xlt/example-layerwise-lr";
import { crossEntropy, gather, reshape, slice, type Tensor } from "@xlt/graph";
import {
  encoderArchitecture,
  fromPretrained,
  hfClassName,
  leaf,
  prefixLabels,
  type Random,
  subtree,
  type TensorTree,
} from "@xlt/nn";
import { frozenMemory, PROMPT_ENCODER, setTrainable, trainableParameters } from "@xlt/peft";
import {
  type Batch,
  compile,
  type FloatArray,
  type LossFunction,
  linearWarmupDecay,
  type StepSession,
  Trainer,
  type TrainingSession,
} from "@xlt/runtime";
import type { WordTokenizer } from "@xlt/tokenize";
import type { CompareData } from "./data.js";
import { CompareError } from "./errors.js";
import {
  encodeText,
  evaluationBatches,
  heldOutPerplexity,
  heldOutPseudoPerplexity,
  type SpecialIds,
  specialTokenIds,
} from "./lm.js";
import { median, PeakGrowth, TimedSession } from "./measure.js";
import { type Adapted, applyMethod, METHOD_SETTINGS, plain, type Task } from "./methods.js";
import type { CompareOptions } from "./options.js";
import type { Job, RunRecord } from "./plan.js";

/** Held-out sentences pseudo-perplexity is measured on (the first ones of the held-out text). */
export const PSEUDO_PERPLEXITY_SENTENCES = 24;

/** Sequences per evaluation batch (held-out perplexity) and masked copies per pseudo-perplexity batch. */
const EVAL_BATCH = 32;

/** The data of a run, tokenized with the checkpoint's tokenizer. */
export interface EncodedData {
  readonly special: SpecialIds;
  readonly vocabSize: number;
  /** Faroese adaptation text as subword ids with special tokens. */
  readonly lmTrain: readonly (readonly number[])[];
  /** The held-out text under the fixed evaluation masking. */
  readonly lmEvaluation: readonly Batch[];
  /** The held-out sentences pseudo-perplexity is measured on. */
  readonly pseudoSentences: readonly (readonly number[])[];
  readonly tagTrain: readonly EncodedSentence[];
  readonly tagTest: readonly EncodedSentence[];
  readonly tags: readonly string[];
}

/** Tokenizes the comparison's data with a checkpoint's tokenizer. */
export function encodeData(
  tokenizer: WordTokenizer,
  data: Pick<CompareData, "lmTrain" | "lmHeldOut" | "tagTrain" | "tagTest" | "tags">,
  maxTokens: number,
): EncodedData {
  const special = specialTokenIds(tokenizer);
  const heldOut = encodeText(tokenizer, data.lmHeldOut, maxTokens);
  const tagged = (sentences: readonly TaggedSentence[]) =>
    encodeTagged(tokenizer, sentences, data.tags, maxTokens);
  return {
    special,
    vocabSize: tokenizer.vocabSize,
    lmTrain: encodeText(tokenizer, data.lmTrain, maxTokens),
    lmEvaluation: evaluationBatches(heldOut, special, tokenizer.vocabSize, EVAL_BATCH),
    pseudoSentences: heldOut.slice(0, PSEUDO_PERPLEXITY_SENTENCES),
    tagTrain: tagged(data.tagTrain),
    tagTest: tagged(data.tagTest),
    tags: data.tags,
  };
}

/** The checkpoint as a masked LM (`lm`) or with a new token-classification head (`upos`). */
async function load(checkpoint: string, task: Task, tags: readonly string[], seed: number) {
  const family = familyOf(checkpoint);
  const architecture = encoderArchitecture(family, { seed });
  if (task === "lm")
    return fromPretrained(checkpoint, {
      architecture,
      config: { architectures: [hfClassName(family, "masked-lm")] },
      // BERT's pre-training checkpoints also hold the pooler and the next-sentence head.
      allowUnexpected: [/pooler\./, /seq_relationship\./],
      seed,
    });
  return fromPretrained(checkpoint, {
    architecture,
    config: {
      architectures: [hfClassName(family, "token-classification")],
      num_labels: tags.length,
      id2label: Object.fromEntries(tags.map((tag, index) => [String(index), tag])),
      label2id: Object.fromEntries(tags.map((tag, index) => [tag, index])),
    },
    allowMissing: [/^classifier\./],
    // Other heads' weights: BERT's MLM (cls.*) and pooler, RoBERTa's lm_head, DistilBERT's vocab_*.
    allowUnexpected: [/^cls\./, /pooler\./, /^lm_head\./, /^vocab_/],
    seed,
  });
}

/** The prompt `[virtual, hidden]` of a prompt-tuned model as the encoder's `prefix` input, or nothing. */
function prefixOf(adapted: Adapted, params: TensorTree): { prefix?: Tensor } {
  return adapted.prompt ? { prefix: adapted.prompt.forward(subtree(params, PROMPT_ENCODER)) } : {};
}

/** `x [batch, virtual + steps, …]` without the prompt's virtual positions → `[batch, steps, …]`. */
function withoutPrompt(adapted: Adapted, x: Tensor): Tensor {
  return adapted.prompt ? slice(x, 1, adapted.prompt.virtualTokens) : x;
}

/**
 * The masked-LM loss of an adapted model on the predicted tokens only: the vocabulary projection
 * runs on the gathered `positions` (as layerwise-lr's pretraining), and the evaluation graph returns
 * their `logits` `[selected, vocab]`. A prompt is prepended to the input and its positions dropped
 * from the output.
 */
function lmLoss(adapted: Adapted): LossFunction<"ids" | "mask" | "positions" | "targets"> {
  const { encoder, head } = adapted.encoderModel.modules;
  if (!head) throw new CompareError("lmLoss", "model", "a masked-LM head", "none");
  const hiddenSize = adapted.encoderModel.config.hidden;
  return (params, { ids, mask, positions, targets }, context) => {
    const encoderParams = subtree(params, "encoder");
    const output = encoder.forward(encoderParams, { ids, mask, ...prefixOf(adapted, params) }, context);
    const hidden = withoutPrompt(adapted, output.hidden); // shape: [batch, steps, hidden]
    const selected = gather(reshape(hidden, [-1, hiddenSize]), positions); // shape: [selected, hidden]
    const wordEmbeddings = leaf(subtree(subtree(encoderParams, "embeddings"), "word"), "weight");
    const logits = head.forward(subtree(params, "head"), { hidden: selected, wordEmbeddings }, context); // shape: [selected, vocab]
    return { loss: crossEntropy(logits, targets, -100), outputs: { logits } };
  };
}

/**
 * Compiles an adapted model for a task: AdamW at `lr` (weight decay 0.01, none on biases and
 * LayerNorms), clipping at norm 1; `lm` takes `ids`, `mask`, `positions`, `targets` and returns the
 * predicted tokens' `logits` `[selected, vocab]`, `upos` takes `ids`, `mask`, `labels` and returns
 * `logits` `[batch, steps, tags]`. Parameters missing from `values` are initialised from `seed`.
 */
export function compileTask(
  task: Task,
  adapted: Adapted,
  values: ReadonlyMap<string, FloatArray>,
  settings: { readonly lr: number; readonly seed: number; readonly threads: number | undefined },
): Promise<TrainingSession> {
  const common = {
    optimizer: { kind: "adamw" } as const,
    groups: [{ name: "all", match: /./, lr: settings.lr, weightDecay: 0.01 }],
    clipNorm: 1,
    seed: settings.seed,
    values,
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
  };
  if (task === "lm")
    return compile(adapted.model, lmLoss(adapted), {
      ...common,
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        mask: { dtype: "bool", shape: ["batch", "steps"] },
        positions: { dtype: "int64", shape: ["selected"] },
        targets: { dtype: "int64", shape: ["selected"] },
      },
    });
  const model = adapted.encoderModel;
  return compile(
    adapted.model,
    (params, { ids, mask, labels }, context) => {
      const output = model.forward(params, { ids, mask, ...prefixOf(adapted, params) }, context);
      if (!output.logits)
        throw new CompareError("compileTask", "model", "a token-classification head", "none");
      // The loss sees the virtual positions too, labelled -100 (ignored); the output drops them.
      const virtual = adapted.prompt?.virtualTokens ?? 0;
      const loss = crossEntropy(output.logits, prefixLabels(labels, virtual), -100);
      return { loss, outputs: { logits: withoutPrompt(adapted, output.logits) } }; // shape: [batch, steps, tags]
    },
    {
      ...common,
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        mask: { dtype: "bool", shape: ["batch", "steps"] },
        labels: { dtype: "int64", shape: ["batch", "steps"] },
      },
    },
  );
}

/** What a test may look at after a run: the parameters before and after training. */
export interface RunInspection {
  readonly adapted: Adapted;
  /** The trained session (released after the callback). */
  readonly session: Pick<StepSession, "evalStep">;
  readonly initial: ReadonlyMap<string, FloatArray>;
  readonly final: ReadonlyMap<string, FloatArray>;
}

export interface RunSettings {
  readonly checkpoint: string;
  readonly options: Pick<CompareOptions, "lmEpochs" | "tagEpochs" | "batchSize" | "threads">;
  readonly data: EncodedData;
  /** Where the trainer's progress bar goes (none by default). */
  readonly progress?: NodeJS.WritableStream;
  /** Called with the parameters before and after training, before the session is released. */
  readonly inspect?: (inspection: RunInspection) => void | Promise<void>;
  /** Stop after this many training steps (tests). */
  readonly maxSteps?: number;
}

/**
 * One run: loads the checkpoint for the task, applies the method, trains with AdamW (weight decay
 * 0.01, none on biases and LayerNorms, clipping at norm 1, linear warmup over 10% then decay) and
 * measures: held-out perplexity and pseudo-perplexity (`lm`) or test word accuracy (`upos`),
 * trainable parameters, frozen-weight bytes, the median time of a training step and the peak
 * resident-set growth while training. The seed initialises the new parameters (LoRA, adapters, the
 * classifier) and draws dropout, batch order and the training masks. `none` evaluates the
 * checkpoint unchanged.
 */
export async function runJob(job: Job, settings: RunSettings): Promise<RunRecord> {
  const started = performance.now();
  const { data, options } = settings;
  const loaded = await load(settings.checkpoint, job.task, data.tags, job.seed);
  const adapted =
    job.method === "none"
      ? // Nothing trains; `compile` wants a trainable parameter, and the head's cost least to derive.
        plain(
          setTrainable(loaded.model, (path) => path.startsWith("head.")),
          loaded.values,
        )
      : applyMethod(job.method, job.task, loaded.model, loaded.values, job.seed);
  const { model, values } = adapted;
  const parameters = trainableParameters(model);
  const frozen = frozenMemory(model);
  const lr = job.method === "none" ? 0 : METHOD_SETTINGS[job.method].lr;
  const padId = data.special["[PAD]"];
  const session = await compileTask(job.task, adapted, values, {
    lr,
    seed: job.seed,
    threads: options.threads,
  });
  const initial = new Map([...session.parameters].map(([path, value]) => [path, value.slice()]));
  const timed = new TimedSession(session);
  const growth = new PeakGrowth();
  if (job.method !== "none") {
    const epochs = job.task === "lm" ? options.lmEpochs : options.tagEpochs;
    const batches = (epoch: number, random: Random): Batch[] => {
      const size = job.task === "lm" ? data.lmTrain.length : data.tagTrain.length;
      const order = random.shuffle(Array.from({ length: size }, (_, i) => i));
      const epochBatches: Batch[] = [];
      if (job.task === "upos")
        epochBatches.push(...taggingBatches(data.tagTrain, order, options.batchSize, padId));
      else
        for (let start = 0, index = 0; start < order.length; start += options.batchSize, index += 1) {
          const sequences = order
            .slice(start, start + options.batchSize)
            .map((i) => data.lmTrain[i] as number[]);
          // Training masks (80/10/10) differ by seed, epoch and batch.
          epochBatches.push(
            maskedBatch(
              sequences,
              data.special,
              data.vocabSize,
              job.seed * 1_000_000 + epoch * 10_000 + index,
            ),
          );
        }
      return settings.maxSteps === undefined ? epochBatches : epochBatches.slice(0, settings.maxSteps);
    };
    const perEpoch =
      settings.maxSteps ??
      Math.ceil((job.task === "lm" ? data.lmTrain.length : data.tagTrain.length) / options.batchSize);
    const total = Math.max(1, perEpoch * epochs);
    const trainer = new Trainer({
      session: timed,
      epochs,
      seed: job.seed,
      schedule: linearWarmupDecay(Math.floor(total / 10), total),
      batches,
      ...(settings.progress ? { progress: settings.progress } : {}),
    });
    growth.start();
    await trainer.run();
  }
  const stepMemoryMiB = timed.stepSeconds.length > 0 ? growth.stop() : null;
  let score: number;
  let pseudo: number | null = null;
  let tokens: number;
  if (job.task === "lm") {
    const held = await heldOutPerplexity(session, data.lmEvaluation);
    const pseudoResult = await heldOutPseudoPerplexity(
      session,
      data.pseudoSentences,
      data.special,
      EVAL_BATCH,
    );
    score = held.perplexity;
    tokens = held.tokens;
    pseudo = pseudoResult.pseudoPerplexity;
  } else {
    score = await accuracy(session, data.tagTest, padId);
    tokens = data.tagTest.reduce((sum, sentence) => sum + sentence.gold.length, 0);
  }
  await settings.inspect?.({ adapted, session, initial, final: session.parameters });
  await session.release();
  return {
    ...job,
    score,
    pseudoPerplexity: pseudo,
    tokens,
    trainable: job.method === "none" ? 0 : parameters.trainable,
    total: parameters.total,
    // `none` trains nothing: its weights are all stored (as float32 here), none moves.
    frozenBytes: job.method === "none" ? 4 * parameters.total : frozen.bytes,
    steps: timed.stepSeconds.length,
    stepMs: timed.stepSeconds.length > 0 ? 1000 * median(timed.stepSeconds) : null,
    stepMemoryMiB,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
