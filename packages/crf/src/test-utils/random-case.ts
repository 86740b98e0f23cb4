import type { TransitionConstraints } from "../schemes.js";
import type { BruteCrf } from "./brute-force.js";

/** mulberry32: a tiny seeded PRNG so every generated case is reproducible from its seed. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomCase {
  crf: BruteCrf & { allowed?: TransitionConstraints };
  /** `[batch][steps][K]` (full rectangle; positions past a length are random junk that must be ignored). */
  emissions: number[][][];
  lengths: number[];
  /** Gold tags `[batch][steps]`, -1 for unknown. */
  tags: number[][];
  steps: number;
}

export interface CaseOptions {
  seed: number;
  maxTags?: number;
  maxSteps?: number;
  maxBatch?: number;
  constrained?: boolean;
  /** Probability that a gold tag is -1 (unknown). */
  unknownRate?: number;
  scale?: number;
}

export function randomCase(options: CaseOptions): RandomCase {
  const random = rng(options.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const real = (scale: number) => (random() * 2 - 1) * scale;
  const K = int(1, options.maxTags ?? 4);
  const steps = int(1, options.maxSteps ?? 4);
  const batch = int(1, options.maxBatch ?? 3);
  const scale = options.scale ?? 3;
  const crf: RandomCase["crf"] = {
    K,
    transitions: Array.from({ length: K }, () => Array.from({ length: K }, () => real(2))),
    start: Array.from({ length: K }, () => real(2)),
    end: Array.from({ length: K }, () => real(2)),
  };
  if (options.constrained) {
    crf.allowed = {
      transitions: Array.from({ length: K }, () => Array.from({ length: K }, () => random() < 0.7)),
      start: Array.from({ length: K }, () => random() < 0.8),
      end: Array.from({ length: K }, () => random() < 0.8),
    };
  }
  const emissions = Array.from({ length: batch }, () =>
    Array.from({ length: steps }, () => Array.from({ length: K }, () => real(scale))),
  );
  const lengths = Array.from({ length: batch }, () => int(1, steps));
  const tags = Array.from({ length: batch }, () =>
    Array.from({ length: steps }, () => (random() < (options.unknownRate ?? 0) ? -1 : int(0, K - 1))),
  );
  return { crf, emissions, lengths, tags, steps };
}
