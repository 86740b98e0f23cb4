import type { Potentials } from "./potentials.js";
import type { Emissions, Labels } from "./tensor.js";

/**
 * The score of sequence b's gold path, or null when its labels are partial (a -1) or fuzzy (a mask),
 * in which case `nll` uses the clamped partition function instead. `forbidden` names the first step
 * the constraints forbid, when the score is -Infinity.
 */
export function goldScore(
  p: Potentials,
  labels: Labels,
  input: Emissions,
  b: number,
  length: number,
): { score: number; forbidden: string } | null {
  if (labels.kind === "mask") return null;
  const K = p.numTags;
  const tags = labels.data;
  const row = b * input.steps;
  for (let t = 0; t < length; t++) if ((tags[row + t] as number) < 0) return null;
  const first = tags[row] as number;
  let score = (p.start[first] as number) + (input.data[row * K + first] as number);
  let forbidden = p.start[first] === Number.NEGATIVE_INFINITY ? `start in tag ${first}` : "";
  for (let t = 1; t < length; t++) {
    const from = tags[row + t - 1] as number;
    const to = tags[row + t] as number;
    const step = p.transitions[from * K + to] as number;
    if (step === Number.NEGATIVE_INFINITY && forbidden === "")
      forbidden = `transition ${from} → ${to} at step ${t}`;
    score += step + (input.data[(row + t) * K + to] as number);
  }
  const last = tags[row + length - 1] as number;
  if (p.end[last] === Number.NEGATIVE_INFINITY && forbidden === "") forbidden = `end in tag ${last}`;
  score += p.end[last] as number;
  if (score === Number.NEGATIVE_INFINITY && forbidden === "")
    forbidden = "path (an emission of -Infinity on it)";
  return { score, forbidden };
}

/** Subtracts `scale ·` the gold path's indicator features of sequence b from the gradients. */
export function subtractGold(
  labels: Labels,
  b: number,
  length: number,
  steps: number,
  K: number,
  scale: number,
  grad: { gradE: Float64Array; gradTransposed: Float64Array; gradStart: Float64Array; gradEnd: Float64Array },
): void {
  const { gradE, gradTransposed, gradStart, gradEnd } = grad;
  const tags = labels.data;
  const row = b * steps;
  const first = tags[row] as number;
  gradStart[first] = (gradStart[first] as number) - scale;
  for (let t = 0; t < length; t++) {
    const to = tags[row + t] as number;
    gradE[(row + t) * K + to] = (gradE[(row + t) * K + to] as number) - scale;
    if (t > 0) {
      const from = tags[row + t - 1] as number;
      gradTransposed[to * K + from] = (gradTransposed[to * K + from] as number) - scale;
    }
  }
  const last = tags[row + length - 1] as number;
  gradEnd[last] = (gradEnd[last] as number) - scale;
}

/**
 * Sequence b's emissions with -Infinity wherever its labels rule a tag out (a known tag allows only
 * itself, -1 allows every tag, a mask allows its ones), written into `out` `[length, K]`.
 */
export function clampEmissions(
  labels: Labels,
  input: Emissions,
  b: number,
  length: number,
  out: Float64Array,
): Float64Array {
  const { steps, numTags: K } = input;
  for (let t = 0; t < length; t++) {
    const source = (b * steps + t) * K;
    for (let j = 0; j < K; j++) {
      const tag = labels.kind === "tags" ? (labels.data[b * steps + t] as number) : -1;
      const allowed = labels.kind === "mask" ? labels.data[source + j] !== 0 : tag < 0 || tag === j;
      out[t * K + j] = allowed ? (input.data[source + j] as number) : Number.NEGATIVE_INFINITY;
    }
  }
  return out;
}
