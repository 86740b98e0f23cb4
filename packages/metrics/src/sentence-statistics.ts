import type { EntityOptions } from "./entities.js";
import { compareCodePoints, extractPair } from "./report.js";

/**
 * Per-sentence sufficient statistics of entity F1, for paired bootstrap and approximate randomization.
 * `data` has shape `[sentences, 3 * types]` (row-major); row `s` holds, for each type `t` in `types` order,
 * `[truePositives, predicted, gold]` at columns `3t, 3t + 1, 3t + 2`. Summing the rows and applying the
 * F1 formula gives exactly `f1Score`'s micro average.
 */
export interface SentenceStatistics {
  readonly types: readonly string[];
  readonly data: Int32Array; // shape: [sentences, 3 * types]
  readonly dims: readonly [number, number];
}

/**
 * Counts true positive, predicted and gold entities per sentence and type (same chunking and options as
 * `classificationReport`), so a resampling test can recompute the corpus metric from any subset.
 */
export function sentenceStatistics(
  yTrue: readonly (readonly string[])[],
  yPred: readonly (readonly string[])[],
  options: EntityOptions = {},
): SentenceStatistics {
  const { gold, predicted } = extractPair("sentenceStatistics", yTrue, yPred, options);
  const types = [...new Set([...gold, ...predicted].map((entity) => entity.type))].sort(compareCodePoints);
  const column = new Map(types.map((type, index) => [type, 3 * index] as const));
  const width = 3 * types.length;
  const data = new Int32Array(yTrue.length * width);
  const goldKeys = new Set<string>();
  for (const entity of gold) {
    data[entity.sentence * width + column.get(entity.type)! + 2]! += 1;
    goldKeys.add(`${entity.type}\u0000${entity.sentence}:${entity.start}:${entity.end}`);
  }
  for (const entity of predicted) {
    const base = entity.sentence * width + column.get(entity.type)!;
    data[base + 1]! += 1;
    if (goldKeys.has(`${entity.type}\u0000${entity.sentence}:${entity.start}:${entity.end}`))
      data[base]! += 1;
  }
  return { types, data, dims: [yTrue.length, width] };
}
