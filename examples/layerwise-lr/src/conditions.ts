import {
  cosineWithWarmup,
  type GroupMatch,
  layerwiseGroups,
  linearWarmupDecay,
  type ParameterGroup,
  type Schedule,
} from "@xlt/runtime";
import { StudyError } from "./errors.js";

/** The study's four conditions. */
export const CONDITIONS = ["baseline", "discriminative", "cosine", "discriminative+cosine"] as const;
export type Condition = (typeof CONDITIONS)[number];

/** What a condition changes: layer-wise learning rates, and the schedule's shape. */
export function conditionSetup(condition: Condition): {
  discriminative: boolean;
  schedule: "linear" | "cosine";
} {
  if (!CONDITIONS.includes(condition))
    throw new StudyError(
      "conditionSetup",
      "condition",
      `one of ${CONDITIONS.join(", ")}`,
      JSON.stringify(condition),
    );
  return {
    discriminative: condition.startsWith("discriminative"),
    schedule: condition.endsWith("cosine") ? "cosine" : "linear",
  };
}

/** A learning-rate layer bottom to top, as `encoderLayerGroups` of `@xlt/nn` lists them. */
export interface Layer {
  readonly name: string;
  readonly match: RegExp;
}

/**
 * The parameter groups of a condition. Discriminative: `layers` (embeddings, `layer0 … layer{L-1}`,
 * head, bottom to top) become embeddings → `blocks` blocks of consecutive layers → head, and group
 * `i` of `n` gets `lr · factor^(n-1-i)` (runtime's `layerwiseGroups`: the head the full rate, the
 * embeddings `factor^(blocks+1)` of it). Otherwise one group at `lr`. Weight decay 0.01 either way.
 */
export function conditionGroups(
  condition: Condition,
  layers: readonly Layer[],
  options: { readonly lr: number; readonly factor: number; readonly blocks: number },
): ParameterGroup[] {
  const fn = "conditionGroups";
  if (!conditionSetup(condition).discriminative)
    return [{ name: "all", match: /./, lr: options.lr, weightDecay: 0.01 }];
  const [embeddings, ...rest] = layers;
  const head = rest.at(-1);
  const encoder = rest.slice(0, -1);
  if (!embeddings || !head || embeddings.name !== "embeddings" || head.name !== "head")
    throw new StudyError(
      fn,
      "layers",
      "embeddings, the encoder layers, then head",
      layers.map((l) => l.name).join(", ") || "none",
    );
  const { blocks } = options;
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > encoder.length)
    throw new StudyError(fn, "options.blocks", `an integer in [1, ${encoder.length}]`, String(blocks));
  const grouped: { name: string; match: GroupMatch }[] = [{ name: embeddings.name, match: embeddings.match }];
  for (let block = 0; block < blocks; block += 1) {
    // Layers split as evenly as possible, lower blocks taking the remainder last.
    const start = Math.floor((block * encoder.length) / blocks);
    const end = Math.floor(((block + 1) * encoder.length) / blocks);
    const members = encoder.slice(start, end).map((layer) => layer.match);
    grouped.push({
      name: `block${block}`,
      match: (path: string) => members.some((match) => match.test(path)),
    });
  }
  grouped.push({ name: head.name, match: head.match });
  return layerwiseGroups(grouped, { lr: options.lr, factor: options.factor, weightDecay: 0.01 });
}

/** The condition's schedule over `total` optimizer steps, with 10% linear warmup. */
export function conditionSchedule(condition: Condition, total: number): Schedule {
  const warmup = Math.floor(total / 10);
  return conditionSetup(condition).schedule === "cosine"
    ? cosineWithWarmup(warmup, Math.max(total, warmup + 1))
    : linearWarmupDecay(warmup, Math.max(total, warmup + 1));
}
