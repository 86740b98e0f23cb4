import type { CrfHead } from "@xlt/heads";
import { Dropout, type EncoderModel, siteSeed, subtree } from "@xlt/nn";
import { type CompileOptions, compile, type StepSession, type TrainingSession } from "@xlt/runtime";
import { StudyError } from "./errors.js";
import { type EncodedSentence, firstSubwords, scorePaths, wordBatch, wordFeatures } from "./tagging.js";

/** The word-level inputs of {@link compileCrfTagger}'s steps, as {@link wordBatch} makes them. */
export type CrfInput = "ids" | "mask" | "first" | "tags" | "words";

/**
 * The parameters of an encoder (`encoder.*`, the model's own head left out) with a CRF head
 * (`head.emission.*`, `head.crf.*`): the CRF head's paths fall in the encoder's `head` layer group.
 */
export function crfTaggerParameters(model: EncoderModel, head: CrfHead) {
  return { encoder: model.modules.encoder.parameters, head: head.parameters };
}

/**
 * The dropout the model's token-classification head applies to the hidden states: its rate
 * (`classifierDropout`, else `hiddenDropout`, else 0.1) and its seed for a model built with `seed`.
 */
export function classifierDropout(model: EncoderModel, seed: number): Dropout {
  const { classifierDropout: rate, hiddenDropout } = model.config;
  return new Dropout(rate ?? hiddenDropout ?? 0.1, siteSeed(siteSeed(seed, "head"), "dropout"));
}

/**
 * Compiles the encoder of `model` with a CRF head over words: the last hidden state at each word's
 * first subword ({@link wordFeatures}), after the dropout the softmax head would apply
 * ({@link classifierDropout} with `options.seed`), gives the emission scores; the loss is the CRF's
 * mean negative log-likelihood over the kept words (`words` mask), and the evaluation graph outputs
 * `scores` `[batch, words, tags]` for Viterbi decoding.
 */
export function compileCrfTagger(
  model: EncoderModel,
  head: CrfHead,
  options: Omit<CompileOptions<CrfInput>, "inputs">,
): Promise<TrainingSession> {
  const size = model.config.hidden;
  const dropout = classifierDropout(model, options.seed ?? 0);
  return compile(
    { parameters: crfTaggerParameters(model, head) },
    (params, { ids, mask, first, tags, words }, context) => {
      const { hidden } = model.modules.encoder.forward(subtree(params, "encoder"), { ids, mask }, context);
      const headParams = subtree(params, "head");
      const dropped = dropout.forward({}, hidden, context);
      const scores = head.forward(headParams, wordFeatures(dropped, first, size)); // shape: [batch, words, tags]
      return { loss: head.loss(headParams, { scores, tags, mask: words }), outputs: { scores } };
    },
    {
      ...options,
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        mask: { dtype: "bool", shape: ["batch", "steps"] },
        first: { dtype: "int64", shape: ["batch", "words"] },
        tags: { dtype: "int64", shape: ["batch", "words"] },
        words: { dtype: "bool", shape: ["batch", "words"] },
      },
    },
  );
}

/**
 * Word accuracy of a CRF tagger on encoded sentences, in batches of 32: the evaluation graph's
 * scores decoded by Viterbi (`head.decode` with the session's current parameters under `head.`);
 * words cut off by truncation count as wrong.
 */
export async function crfAccuracy(
  session: Pick<StepSession, "evalStep" | "snapshot">,
  head: Pick<CrfHead, "decode">,
  sentences: readonly EncodedSentence[],
  padId: number,
): Promise<number> {
  const { tensors } = await session.snapshot();
  let correct = 0;
  let total = 0;
  for (let start = 0; start < sentences.length; start += 32) {
    const chunk = sentences.slice(start, start + 32);
    const { scores } = await session.evalStep(wordBatch(chunk, padId));
    if (!(scores?.data instanceof Float32Array))
      throw new StudyError(
        "crfAccuracy",
        "session",
        "float32 scores from evalStep",
        scores ? scores.data.constructor.name : "none",
      );
    const { paths } = head.decode(
      tensors,
      { data: scores.data, dims: scores.dims },
      chunk.map((sentence) => firstSubwords(sentence).length),
      "head.",
    );
    const scored = scorePaths(chunk, paths);
    correct += scored.correct;
    total += scored.total;
  }
  return total === 0 ? 0 : correct / total;
}
