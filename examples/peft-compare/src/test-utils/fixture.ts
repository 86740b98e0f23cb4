import { ensurePretrained, SHORT as PRETRAINING } from "@xlt/example-layerwise-lr";
import { type CompareData, loadCompareData } from "../data.js";

/** A tiny encoder's shape: the tests' checkpoint takes seconds to pretrain. */
export const TINY_SHAPE = { vocab: 300, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 24 };
export const TINY_MAX_TOKENS = 24;

/** The bundled data, cut to a few sentences of each part. */
export async function tinyData(): Promise<CompareData> {
  const data = await loadCompareData(300);
  return {
    pretrainText: new Map([...data.pretrainText].map(([language, text]) => [language, text.slice(0, 60)])),
    lmTrain: data.lmTrain.slice(0, 24),
    lmHeldOut: data.lmHeldOut.slice(0, 10),
    tagTrain: data.tagTrain.slice(0, 16),
    tagTest: data.tagTest.slice(0, 8),
    tags: data.tags,
  };
}

/** A tiny BERT masked LM pretrained for 4 steps by layerwise-lr's `ensurePretrained` into `<out>/pretrained`. */
export function tinyCheckpoint(out: string, data: CompareData): Promise<string> {
  return ensurePretrained(
    {
      ...PRETRAINING,
      pretrainSteps: 4,
      pretrainBatch: 8,
      maxTokens: TINY_MAX_TOKENS,
      shape: TINY_SHAPE,
      out,
      checkpoint: null,
      threads: 1,
      full: false,
    },
    data.pretrainText,
    () => {},
  );
}
