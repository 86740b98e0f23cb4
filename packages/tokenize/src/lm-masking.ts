import { isArray, show, TokenizeError } from "./errors.js";
import { seededRandom } from "./random.js";

/** What {@link maskTokens} reads of a sequence (a {@link WordEncoding} fits). */
export interface MaskableSequence {
  readonly ids: readonly number[];
  /** 1 for special tokens (never selected). */
  readonly specialTokensMask?: readonly number[];
  /** 0 for padding (never selected). */
  readonly attentionMask?: readonly number[];
  /** Word of each token, `null` for special tokens; needed for `wholeWord`. */
  readonly wordIds?: readonly (number | null)[];
}

/** A masked copy of a sequence: model inputs and masked-LM labels, one entry per token. */
export interface MaskedSequence {
  /** Input ids after masking (the `[MASK]` id, a random id, or the original). */
  ids: number[];
  /** The original id at selected positions, `ignoreIndex` (-100) everywhere else. */
  labels: number[];
}

export interface MaskTokensOptions {
  /** Id of the mask token. Never selected and never drawn as a random replacement. */
  maskId: number;
  /**
   * Half-open range `[low, high)` of ids a selected token may be replaced by (the 10% "random" case),
   * minus `specialIds` and `maskId`. Usually `[0, vocabularySize)`.
   */
  randomRange: readonly [low: number, high: number];
  /** Ids that are never selected and never drawn (padding, `[CLS]`, `[SEP]`, `<unk>`, ...). */
  specialIds?: readonly number[];
  /** Probability that a token (or, with `wholeWord`, a word) is selected. Default 0.15. */
  probability?: number;
  /** Share of selected tokens replaced by `maskId`. Default 0.8. */
  maskRate?: number;
  /** Share of selected tokens replaced by a random id; the rest stay unchanged. Default 0.1. */
  randomRate?: number;
  /** Select whole words (by `wordIds`): all pieces of a selected word are selected together. */
  wholeWord?: boolean;
  /** Seed of the draws: the same seed and sequences give the same result on every platform. */
  seed: number;
  /** Label of positions that are not predicted. Default -100 (the cross-entropy ignore index). */
  ignoreIndex?: number;
}

const FN = "maskTokens";

function rate(argument: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1))
    throw new TokenizeError(FN, argument, "a number in [0, 1]", show(value));
  return value;
}

function tokenId(argument: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new TokenizeError(FN, argument, "a token id (an integer >= 0)", show(value));
  return value;
}

/** Draws uniformly from `[low, high)` minus the sorted, in-range `excluded` ids. */
function allowedIdSampler(low: number, high: number, excluded: readonly number[]): (u: number) => number {
  const allowed = high - low - excluded.length;
  return (u) => {
    let id = low + Math.floor(u * allowed);
    for (const skip of excluded) {
      if (skip > id) break;
      id++;
    }
    return id;
  };
}

function checkSequence(sequence: MaskableSequence, index: number, wholeWord: boolean): void {
  if (!isArray(sequence?.ids))
    throw new TokenizeError(FN, `sequences[${index}].ids`, "an array of token ids", show(sequence?.ids));
  sequence.ids.forEach((id, t) => {
    tokenId(`sequences[${index}].ids[${t}]`, id);
  });
  const n = sequence.ids.length;
  for (const key of ["specialTokensMask", "attentionMask", "wordIds"] as const) {
    const values = sequence[key];
    if (values !== undefined && values.length !== n)
      throw new TokenizeError(
        FN,
        `sequences[${index}].${key}`,
        `${n} entries like ids`,
        String(values.length),
      );
  }
  if (wholeWord && sequence.wordIds === undefined)
    throw new TokenizeError(FN, `sequences[${index}].wordIds`, "word ids (wholeWord is on)", "none");
}

/**
 * Masked-LM masking with the semantics of Hugging Face's `DataCollatorForLanguageModeling` (BERT,
 * Devlin et al. 2019): each real token is selected independently with `probability` (default 15%);
 * special tokens (`specialIds`, `specialTokensMask`, `maskId`) and padding (`attentionMask` 0) never
 * are. Each selected token is then, independently, replaced by `maskId` with probability `maskRate`
 * (80%), by a uniform random id from `randomRange` minus the special ids with probability `randomRate`
 * (10%; the draw may hit the original id, as in BERT), or left unchanged. Labels hold the original id
 * at selected positions and `ignoreIndex` (-100) elsewhere, so the loss counts only selected tokens.
 *
 * With `wholeWord` the units of selection are words (`wordIds`, as from `WordTokenizer.encodeWords`):
 * each word is selected with `probability` and then all its pieces are; the 80/10/10 choice is still
 * made per piece, as in BERT's whole-word masking and Hugging Face's `DataCollatorForWholeWordMask`.
 * Words are selected independently, where those pick a fixed count (`round(15%)` of the tokens' worth);
 * the expected share is the same. Tokens whose word id is `null` are special.
 *
 * One seeded stream is drawn through the sequences in order: per unit one draw for selection, per
 * selected token one for the 80/10/10 choice and one more for a random id. Use a new seed per epoch
 * (e.g. `seed + epoch`) to see new masks.
 */
export function maskTokens(
  sequences: readonly MaskableSequence[],
  options: MaskTokensOptions,
): MaskedSequence[] {
  if (!isArray(sequences)) throw new TokenizeError(FN, "sequences", "an array", show(sequences));
  const maskId = tokenId("options.maskId", options.maskId);
  const probability = rate("options.probability", options.probability ?? 0.15);
  const maskRate = rate("options.maskRate", options.maskRate ?? 0.8);
  const randomRate = rate("options.randomRate", options.randomRate ?? 0.1);
  if (maskRate + randomRate > 1)
    throw new TokenizeError(
      FN,
      "options.maskRate + options.randomRate",
      "at most 1",
      String(maskRate + randomRate),
    );
  if (!Number.isSafeInteger(options.seed))
    throw new TokenizeError(FN, "options.seed", "an integer", show(options.seed));
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isSafeInteger(ignoreIndex))
    throw new TokenizeError(FN, "options.ignoreIndex", "an integer", show(ignoreIndex));
  const specials = new Set<number>([maskId]);
  (options.specialIds ?? []).forEach((id, index) => {
    specials.add(tokenId(`options.specialIds[${index}]`, id));
  });
  const range = options.randomRange;
  const [low, high] = isArray(range) ? range : [Number.NaN, Number.NaN];
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || low < 0 || low >= high)
    throw new TokenizeError(
      FN,
      "options.randomRange",
      "[low, high) with integers 0 <= low < high",
      show(range),
    );
  const excluded = [...specials].filter((id) => id >= low && id < high).sort((a, b) => a - b);
  if (randomRate > 0 && excluded.length === high - low)
    throw new TokenizeError(
      FN,
      "options.randomRange",
      "at least one id that is not special",
      `[${low}, ${high})`,
    );
  const randomId = allowedIdSampler(low, high, excluded);
  const wholeWord = options.wholeWord ?? false;
  sequences.forEach((sequence, index) => {
    checkSequence(sequence, index, wholeWord);
  });

  const random = seededRandom(options.seed);
  return sequences.map((sequence) => {
    const { ids, specialTokensMask, attentionMask, wordIds } = sequence;
    const real = ids.map(
      (id, t) =>
        !specials.has(id) &&
        specialTokensMask?.[t] !== 1 &&
        attentionMask?.[t] !== 0 &&
        !(wholeWord && wordIds?.[t] === null),
    );
    const selected = new Array<boolean>(ids.length).fill(false);
    if (wholeWord) {
      const chosen = new Map<number | null | undefined, boolean>();
      ids.forEach((_, t) => {
        if (!real[t]) return;
        const word = wordIds?.[t];
        if (!chosen.has(word)) chosen.set(word, random() < probability);
        selected[t] = chosen.get(word) === true;
      });
    } else {
      ids.forEach((_, t) => {
        if (real[t]) selected[t] = random() < probability;
      });
    }
    const out: MaskedSequence = { ids: [...ids], labels: new Array<number>(ids.length).fill(ignoreIndex) };
    ids.forEach((id, t) => {
      if (!selected[t]) return;
      out.labels[t] = id;
      const u = random();
      if (u < maskRate) out.ids[t] = maskId;
      else if (u < maskRate + randomRate) out.ids[t] = randomId(random());
    });
    return out;
  });
}
