import { ensurePretrained, SHORT as PRETRAINING } from "@xlt/example-layerwise-lr";
import { type CompareData, loadCompareData, loadPretrainingText } from "../data.js";

/** A tiny encoder's shape: the tests' checkpoint takes seconds to pretrain. */
export const TINY_SHAPE = { vocab: 300, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 24 };
/** The tiny encoder's 24 positions less prompt tuning's 8 virtual tokens. */
export const TINY_MAX_TOKENS = 16;

/** The bundled data, cut to a few sentences of each part. */
export async function tinyData(): Promise<CompareData> {
  const data = await loadCompareData(300);
  return {
    lmTrain: data.lmTrain.slice(0, 24),
    lmHeldOut: data.lmHeldOut.slice(0, 10),
    tagTrain: data.tagTrain.slice(0, 16),
    tagTest: data.tagTest.slice(0, 8),
    tags: data.tags,
  };
}

/** A tiny BERT masked LM pretrained for 4 steps by layerwise-lr's `ensurePretrained` into `<out>/pretrained`. */
export async function tinyCheckpoint(out: string): Promise<string> {
  const text = await loadPretrainingText();
  return ensurePretrained(
    {
      ...PRETRAINING,
      pretrainSteps: 4,
      pretrainBatch: 8,
      maxTokens: TINY_SHAPE.maxPositions,
      shape: TINY_SHAPE,
      out,
      threads: 1,
    },
    new Map([...text].map(([language, sentences]) => [language, sentences.slice(0, 60)])),
    () => {},
  );
}
