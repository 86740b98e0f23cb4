import { type EncodedSentence, taggingBatches } from "@xlt/example-layerwise-lr";
import { crossEntropy, type Tensor } from "@xlt/graph";
import { encoderArchitecture, fromPretrained, type HfEncoderModel, hfClassName } from "@xlt/nn";
import type { LoraConfig, ValueMap } from "@xlt/peft";
import { compile, linearWarmupDecay, Trainer, type TrainingSession } from "@xlt/runtime";
import type { HqlOptions } from "./options.js";

/** LoRA goes on every linear layer of the encoder (`output` names the attention and feed-forward outputs). */
export const LORA_TARGETS: readonly string[] = ["query", "key", "value", "output", "intermediate"];

/**
 * The LoRA of every method: rank `options.rank`, alpha twice the rank, dropout 0.1 (masks seeded by
 * the run's seed), on every linear layer of the encoder; the token classifier trains in full
 * (PEFT's `modules_to_save`) and is carried down the tree with the adapters.
 */
export function loraConfig(options: Pick<HqlOptions, "rank">, seed: number): LoraConfig {
  return {
    targetModules: LORA_TARGETS,
    r: options.rank,
    alpha: 2 * options.rank,
    dropout: 0.1,
    modulesToSave: ["classifier"],
    seed,
  };
}

/**
 * The shared base of one seed: the pretrained BERT encoder of `checkpoint` with a new
 * token-classification head over `tags`, initialised from `seed` (which also seeds its dropout).
 */
export async function loadBase(
  checkpoint: string,
  tags: readonly string[],
  seed: number,
): Promise<{ model: HfEncoderModel; values: ValueMap }> {
  const loaded = await fromPretrained(checkpoint, {
    architecture: encoderArchitecture("bert", { seed }),
    config: {
      architectures: [hfClassName("bert", "token-classification")],
      num_labels: tags.length,
      id2label: Object.fromEntries(tags.map((tag, index) => [String(index), tag])),
      label2id: Object.fromEntries(tags.map((tag, index) => [tag, index])),
    },
    allowMissing: [/^classifier\./],
    // The masked-LM head's weights (cls.*) and the pooler are not part of a tagger.
    allowUnexpected: [/^cls\./, /pooler\./],
    seed,
  });
  return { model: loaded.model, values: loaded.values };
}

/** Compiles a tagger's LoRA model: token cross-entropy (ignore -100), AdamW, clipping at norm 1. */
export function compileTagger(
  model: HfEncoderModel,
  values: ValueMap,
  options: Pick<HqlOptions, "lr" | "threads">,
  seed: number,
): Promise<TrainingSession> {
  return compile(
    model,
    (params, { ids, mask, labels }, context) => {
      const { logits } = model.forward(params, { ids, mask }, context); // shape: [batch, steps, tags]
      return { loss: crossEntropy(logits as Tensor, labels, -100), outputs: { logits: logits as Tensor } };
    },
    {
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        mask: { dtype: "bool", shape: ["batch", "steps"] },
        labels: { dtype: "int64", shape: ["batch", "steps"] },
      },
      optimizer: { kind: "adamw" },
      groups: [{ name: "lora", match: /./, lr: options.lr, weightDecay: 0.01 }],
      clipNorm: 1,
      seed,
      values,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    },
  );
}

/**
 * Trains a compiled session at step 0 for `epochs` epochs over `sentences` (batches
 * of `batchSize` in an order shuffled by `seed` every epoch), with 10% linear warmup and linear
 * decay to zero. Returns the optimizer steps taken.
 */
export async function trainEpochs(
  session: TrainingSession,
  sentences: readonly EncodedSentence[],
  epochs: number,
  options: Pick<HqlOptions, "batchSize">,
  seed: number,
  padId: number,
): Promise<number> {
  const total = epochs * Math.ceil(sentences.length / options.batchSize);
  const first = session.step;
  const trainer = new Trainer({
    session,
    epochs,
    seed,
    // The schedule reads the session's step, counted from 0 by a fresh (or restored) session.
    schedule: linearWarmupDecay(Math.floor(total / 10), Math.max(total, 1)),
    batches: (_epoch, random) =>
      taggingBatches(
        sentences,
        random.shuffle(Array.from({ length: sentences.length }, (_, index) => index)),
        options.batchSize,
        padId,
      ),
  });
  await trainer.run();
  return session.step - first;
}
