/** A benchmark problem: random CRF scores and gold tags, float32 as a model would emit them. */
export interface Problem {
  readonly batch: number;
  readonly steps: number;
  readonly tags: number;
  /** shape: [batch, steps, tags] */
  readonly emissions: Float32Array;
  /** shape: [tags, tags] ([from, to]) */
  readonly transitions: Float32Array;
  /** shape: [tags] */
  readonly start: Float32Array;
  /** shape: [tags] */
  readonly end: Float32Array;
  /** shape: [batch]; every sequence is full length. */
  readonly lengths: Int32Array;
  /** shape: [batch, steps] */
  readonly gold: Int32Array;
}

/** mulberry32 uniform [0, 1). */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box–Muller) from a seeded uniform source. */
function normal(seed: number): () => number {
  const next = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/**
 * Emissions and transition scores ~ N(0, 1), start/end ~ N(0, 1), gold tags uniform. With `peak`,
 * the gold tag's emission at each position gets `+peak`: the confident, peaked scores of a trained
 * tagger, where one tag dominates each position.
 */
export function makeProblem(batch: number, steps: number, tags: number, seed: number, peak = 0): Problem {
  const draw = normal(seed);
  const pick = uniform(seed + 1);
  const fill = (length: number) => Float32Array.from({ length }, draw);
  const emissions = fill(batch * steps * tags);
  const transitions = fill(tags * tags);
  const start = fill(tags);
  const end = fill(tags);
  const gold = Int32Array.from({ length: batch * steps }, () => Math.floor(pick() * tags));
  if (peak !== 0) {
    for (let position = 0; position < gold.length; position++) {
      const index = position * tags + (gold[position] as number);
      emissions[index] = (emissions[index] as number) + peak;
    }
  }
  return {
    batch,
    steps,
    tags,
    emissions,
    transitions,
    start,
    end,
    lengths: new Int32Array(batch).fill(steps),
    gold,
  };
}

/**
 * The peers' input file (little-endian): "XCRF", int32 version 1, batch, steps, tags, then
 * float32 emissions, transitions, start, end, int32 lengths and gold tags (see peers/viterbi.c).
 */
export function encodeProblem(problem: Problem): Uint8Array {
  const parts: (Float32Array | Int32Array)[] = [
    problem.emissions,
    problem.transitions,
    problem.start,
    problem.end,
    problem.lengths,
    problem.gold,
  ];
  const size = 20 + parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x58, 0x43, 0x52, 0x46], 0); // "XCRF"
  [1, problem.batch, problem.steps, problem.tags].forEach((value, index) => {
    view.setInt32(4 + 4 * index, value, true);
  });
  let offset = 20;
  for (const part of parts) {
    for (let index = 0; index < part.length; index++) {
      if (part instanceof Float32Array) view.setFloat32(offset, part[index] as number, true);
      else view.setInt32(offset, part[index] as number, true);
      offset += 4;
    }
  }
  return out;
}

/** The float64 score of `path` for sequence `b`: start + emissions + transitions + end. */
export function pathScore(problem: Problem, b: number, path: readonly number[]): number {
  const { steps, tags, emissions, transitions } = problem;
  let score =
    (problem.start[path[0] as number] as number) + (problem.end[path[path.length - 1] as number] as number);
  for (let t = 0; t < path.length; t++)
    score += emissions[(b * steps + t) * tags + (path[t] as number)] as number;
  for (let t = 1; t < path.length; t++)
    score += transitions[(path[t - 1] as number) * tags + (path[t] as number)] as number;
  return score;
}
