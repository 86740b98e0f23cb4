/**
 * Unigram language-model subword training (Kudo 2018, "Subword Regularization: Improving Neural
 * Network Translation Models with Multiple Subword Candidates", section 3.2), the algorithm of
 * SentencePiece's unigram trainer: seed pieces from frequent substrings, EM on the piece
 * probabilities, and pruning of the pieces whose removal costs the least likelihood.
 *
 * Every function here works on pre-tokenized words (`▁word` after Metaspace) with their corpus
 * counts; a piece's score is its log-probability.
 */

/** A distinct pre-tokenized word, as code points, with how often it occurs in the corpus. */
export interface CountedWord {
  chars: readonly string[];
  count: number;
}

/** Piece → log-probability. */
export type PieceScores = Map<string, number>;

export interface UnigramTrainingOptions {
  /** Number of pieces to end with (single characters are always kept, so never fewer than them). */
  pieces: number;
  /** Longest piece in code points. */
  maxPieceLength: number;
  /** Fraction of pieces kept by each pruning round, in (0, 1). */
  shrinkingFactor: number;
  /** EM iterations before each pruning round and at the end. */
  numEmIterations: number;
  /** How many multi-character substrings seed the vocabulary (the best by frequency × length). */
  seedSize: number;
}

/** log(exp(a) + exp(b)), exact for -Infinity. */
function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const high = Math.max(a, b);
  return high + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** An edge of a word's segmentation lattice: piece `chars[start … end - 1]`. */
interface Edge {
  start: number;
  end: number;
  piece: string;
  score: number;
}

/** Every piece of `scores` that occurs in `chars`, as lattice edges, ordered by start then length. */
function latticeEdges(
  chars: readonly string[],
  scores: ReadonlyMap<string, number>,
  maxPieceLength: number,
): Edge[] {
  const edges: Edge[] = [];
  for (let start = 0; start < chars.length; start++) {
    let piece = "";
    for (let end = start + 1; end <= Math.min(chars.length, start + maxPieceLength); end++) {
      piece += chars[end - 1];
      const score = scores.get(piece);
      if (score !== undefined) edges.push({ start, end, piece, score });
    }
  }
  return edges;
}

/**
 * E-step: expected count of every piece, Σ over words of count(word) × Σ over the word's
 * segmentations of P(segmentation | word) × (times the piece occurs in it), by forward-backward over
 * each word's lattice; and the corpus log-likelihood Σ count(word) × log Σ_segmentations Π p(piece).
 */
export function expectedCounts(
  words: readonly CountedWord[],
  scores: ReadonlyMap<string, number>,
  maxPieceLength: number,
): { counts: Map<string, number>; logLikelihood: number } {
  const counts = new Map<string, number>();
  for (const piece of scores.keys()) counts.set(piece, 0);
  let logLikelihood = 0;
  for (const { chars, count } of words) {
    const n = chars.length;
    const edges = latticeEdges(chars, scores, maxPieceLength);
    // alpha[i]: log-sum over segmentations of chars[0 … i-1]; beta[i]: of chars[i … n-1].
    const alpha = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
    const beta = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
    alpha[0] = 0;
    beta[n] = 0;
    const byEnd = [...edges].sort((a, b) => a.end - b.end || a.start - b.start);
    for (const e of byEnd) alpha[e.end] = logAddExp(alpha[e.end] ?? 0, (alpha[e.start] ?? 0) + e.score);
    for (let k = edges.length - 1; k >= 0; k--) {
      const e = edges[k];
      if (e !== undefined) beta[e.start] = logAddExp(beta[e.start] ?? 0, e.score + (beta[e.end] ?? 0));
    }
    const logZ = alpha[n] ?? Number.NEGATIVE_INFINITY;
    logLikelihood += count * logZ;
    if (logZ === Number.NEGATIVE_INFINITY) continue;
    for (const e of edges) {
      const posterior = Math.exp((alpha[e.start] ?? 0) + e.score + (beta[e.end] ?? 0) - logZ);
      counts.set(e.piece, (counts.get(e.piece) ?? 0) + count * posterior);
    }
  }
  return { counts, logLikelihood };
}

/**
 * M-step: maximum-likelihood log-probabilities, log(count / Σ counts) (plain normalised counts, no
 * digamma/Bayesian smoothing, so that each EM iteration provably never lowers the likelihood). A piece
 * with expected count 0 gets -Infinity; {@link withFloor} makes such scores finite again between rounds.
 */
export function maximize(counts: ReadonlyMap<string, number>): PieceScores {
  let total = 0;
  for (const c of counts.values()) total += c;
  const logTotal = Math.log(total);
  const scores: PieceScores = new Map();
  for (const [piece, c] of counts)
    scores.set(piece, c > 0 ? Math.log(c) - logTotal : Number.NEGATIVE_INFINITY);
  return scores;
}

/**
 * Finite, normalised scores: a piece at -Infinity (expected count 0) gets the lowest finite score
 * minus 10 (the margin Hugging Face uses below the lowest score for unknown pieces), then all are
 * renormalised to sum to probability 1.
 */
export function withFloor(scores: ReadonlyMap<string, number>): PieceScores {
  let lowest = 0;
  for (const s of scores.values()) if (Number.isFinite(s)) lowest = Math.min(lowest, s);
  const floor = lowest - 10;
  let logTotal = Number.NEGATIVE_INFINITY;
  for (const s of scores.values()) logTotal = logAddExp(logTotal, Number.isFinite(s) ? s : floor);
  const out: PieceScores = new Map();
  for (const [piece, s] of scores) out.set(piece, (Number.isFinite(s) ? s : floor) - logTotal);
  return out;
}

/**
 * Best segmentation of `chars` under `scores` (ties: the first found, scanning starts left to right
 * and shorter pieces first), leaving out `exclude`. Undefined when no segmentation exists.
 */
export function viterbi(
  chars: readonly string[],
  scores: ReadonlyMap<string, number>,
  maxPieceLength: number,
  exclude?: string,
): string[] | undefined {
  const n = chars.length;
  const best = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
  const back: (Edge | undefined)[] = new Array(n + 1).fill(undefined);
  best[0] = 0;
  for (const e of latticeEdges(chars, scores, maxPieceLength)) {
    if (e.piece === exclude || best[e.start] === Number.NEGATIVE_INFINITY) continue;
    const candidate = (best[e.start] ?? 0) + e.score;
    if (back[e.end] === undefined || candidate > (best[e.end] ?? 0)) {
      best[e.end] = candidate;
      back[e.end] = e;
    }
  }
  if (back[n] === undefined && n > 0) return undefined;
  const pieces: string[] = [];
  for (let i = n; i > 0; ) {
    const e = back[i];
    if (e === undefined) return undefined;
    pieces.push(e.piece);
    i = e.start;
  }
  return pieces.reverse();
}

/**
 * Pruning (SentencePiece's `PruneSentencePieces`): Viterbi-segments the corpus, and for every piece
 * that is not `required` estimates the loss of corpus log-likelihood if it were removed and its
 * occurrences re-segmented into its own best alternative segmentation; keeps the `keep` pieces that
 * would cost most (required pieces first; ties by piece string). Pieces no Viterbi path uses cost 0.
 */
export function prunePieces(
  words: readonly CountedWord[],
  scores: ReadonlyMap<string, number>,
  required: ReadonlySet<string>,
  keep: number,
  maxPieceLength: number,
): PieceScores {
  const frequency = new Map<string, number>();
  let pieceTotal = 0;
  let wordTotal = 0;
  for (const { chars, count } of words) {
    wordTotal += count;
    for (const piece of viterbi(chars, scores, maxPieceLength) ?? []) {
      frequency.set(piece, (frequency.get(piece) ?? 0) + count);
      pieceTotal += count;
    }
  }
  const candidates: { piece: string; loss: number }[] = [];
  for (const piece of scores.keys()) {
    if (required.has(piece)) continue;
    const f = frequency.get(piece) ?? 0;
    if (f === 0) {
      candidates.push({ piece, loss: 0 });
      continue;
    }
    const alternatives = viterbi([...piece], scores, maxPieceLength, piece) ?? [];
    // Removing the piece sends its f occurrences to its alternatives: the token total grows by
    // f × (alternatives - 1) and each alternative's frequency by f.
    const logProbPiece = Math.log(f) - Math.log(pieceTotal);
    const logTotalAfter = Math.log(pieceTotal + f * (alternatives.length - 1));
    let logProbAlternatives = 0;
    for (const a of alternatives)
      logProbAlternatives += Math.log((frequency.get(a) ?? 0) + f) - logTotalAfter;
    // Weighted by the share of words whose best segmentation uses the piece (per occurrence).
    candidates.push({ piece, loss: (f / wordTotal) * (logProbPiece - logProbAlternatives) });
  }
  candidates.sort((a, b) => b.loss - a.loss || (a.piece < b.piece ? -1 : a.piece > b.piece ? 1 : 0));
  const kept: PieceScores = new Map();
  for (const [piece, s] of scores) if (required.has(piece)) kept.set(piece, s);
  for (const { piece } of candidates) {
    if (kept.size >= keep) break;
    kept.set(piece, scores.get(piece) ?? Number.NEGATIVE_INFINITY);
  }
  return kept;
}

/**
 * Seed vocabulary: every single character (with its frequency) and the `seedSize` most frequent
 * multi-character substrings of at most `maxPieceLength` code points, ranked by frequency × length
 * (ties by string), scored log(frequency × length) and normalised.
 */
export function seedPieces(
  words: readonly CountedWord[],
  maxPieceLength: number,
  seedSize: number,
): PieceScores {
  const characters = new Map<string, number>();
  const substrings = new Map<string, number>();
  for (const { chars, count } of words) {
    for (let start = 0; start < chars.length; start++) {
      let piece = chars[start] ?? "";
      characters.set(piece, (characters.get(piece) ?? 0) + count);
      for (let end = start + 2; end <= Math.min(chars.length, start + maxPieceLength); end++) {
        piece += chars[end - 1];
        substrings.set(piece, (substrings.get(piece) ?? 0) + count);
      }
    }
  }
  const ranked = [...substrings]
    .map(([piece, f]) => ({ piece, weight: f * [...piece].length }))
    .sort((a, b) => b.weight - a.weight || (a.piece < b.piece ? -1 : a.piece > b.piece ? 1 : 0))
    .slice(0, seedSize);
  const raw: PieceScores = new Map();
  for (const piece of [...characters.keys()].sort()) raw.set(piece, Math.log(characters.get(piece) ?? 1));
  for (const { piece, weight } of ranked) raw.set(piece, Math.log(weight));
  return withFloor(raw);
}

/**
 * Trains Unigram pieces: seeds, then alternates `numEmIterations` EM iterations with pruning to
 * `max(pieces, size × shrinkingFactor)` until `pieces` remain (or only single characters, when there
 * are more of those than `pieces`), and ends with `numEmIterations` more EM iterations. Returns
 * pieces with finite log-probabilities and their expected counts in the last E-step, best first
 * (ties by piece string).
 */
export function trainUnigramPieces(
  words: readonly CountedWord[],
  options: UnigramTrainingOptions,
): { piece: string; score: number; count: number }[] {
  const { maxPieceLength, shrinkingFactor, numEmIterations } = options;
  const sorted = [...words].sort((a, b) => {
    const x = a.chars.join("");
    const y = b.chars.join("");
    return x < y ? -1 : x > y ? 1 : 0;
  });
  let scores = seedPieces(sorted, maxPieceLength, options.seedSize);
  const required = new Set<string>();
  for (const { chars } of sorted) for (const c of chars) required.add(c);
  const target = Math.max(options.pieces, required.size);
  let counts = new Map<string, number>();
  for (;;) {
    for (let i = 0; i < numEmIterations; i++) {
      counts = expectedCounts(sorted, scores, maxPieceLength).counts;
      scores = maximize(counts);
    }
    scores = withFloor(scores);
    if (scores.size <= target) break;
    const keep = Math.max(target, Math.floor(scores.size * shrinkingFactor));
    scores = withFloor(prunePieces(sorted, scores, required, keep, maxPieceLength));
  }
  return [...scores]
    .map(([piece, score]) => ({ piece, score, count: counts.get(piece) ?? 0 }))
    .sort((a, b) => b.score - a.score || (a.piece < b.piece ? -1 : a.piece > b.piece ? 1 : 0));
}
