import { TaggerError } from "./errors.js";
import { hashString } from "./hash.js";

/** Number of feature templates; every token fires exactly this many features. */
export const FEATURES_PER_TOKEN = 21;

const BEGIN = ["<s-2>", "<s-1>"];
const END = ["</s+1>", "</s+2>"];

/**
 * The word's shape with runs collapsed: `X` upper-case, `x` lower-case, `d` digit, any other
 * character as itself ("Maġistrat" → "Xx", "il-" → "x-", "12.5" → "d.d").
 */
export function wordShape(word: string): string {
  let shape = "";
  let previous = "";
  for (const char of word) {
    let kind: string;
    if (char >= "0" && char <= "9") kind = "d";
    else if (char !== char.toLowerCase()) kind = "X";
    else if (char !== char.toUpperCase()) kind = "x";
    else kind = char;
    if (kind !== previous) shape += kind;
    previous = kind;
  }
  return shape;
}

/**
 * The CRFsuite-style feature strings of `words[index]`: bias, the word and its lower case,
 * prefixes and suffixes of length 1–4 (of the lower-cased word; the whole word when shorter),
 * the collapsed shape, digit/hyphen/capital/all-caps flags, and the lower-cased words at ±1, ±2
 * (sentence-boundary markers past the ends).
 */
export function tokenFeatures(words: readonly string[], index: number): string[] {
  const word = words[index];
  if (word === undefined) {
    throw new TaggerError("tokenFeatures", "index", `an index in 0..${words.length - 1}`, String(index));
  }
  const lower = word.toLowerCase();
  const at = (offset: number): string => {
    const position = index + offset;
    if (position < 0) return BEGIN[position + 2] ?? "<s>";
    if (position >= words.length) return END[position - words.length] ?? "</s>";
    return (words[position] as string).toLowerCase();
  };
  const first = word.charAt(0);
  const features = [
    "bias",
    `w=${word}`,
    `l=${lower}`,
    `p1=${lower.slice(0, 1)}`,
    `p2=${lower.slice(0, 2)}`,
    `p3=${lower.slice(0, 3)}`,
    `p4=${lower.slice(0, 4)}`,
    `s1=${lower.slice(-1)}`,
    `s2=${lower.slice(-2)}`,
    `s3=${lower.slice(-3)}`,
    `s4=${lower.slice(-4)}`,
    `shape=${wordShape(word)}`,
    `digit=${/[0-9]/.test(word) ? 1 : 0}`,
    `hyphen=${word.includes("-") ? 1 : 0}`,
    `cap=${first !== first.toLowerCase() ? 1 : 0}`,
    `upper=${word === word.toUpperCase() && word !== lower ? 1 : 0}`,
    `w-1=${at(-1)}`,
    `w+1=${at(1)}`,
    `w-2=${at(-2)}`,
    `w+2=${at(2)}`,
    `w-1|w=${at(-1)}|${lower}`,
  ];
  return features;
}

/**
 * Hashes every token's features into `2 ** bits` buckets.
 * Returns the bucket indices, shape: [words.length, FEATURES_PER_TOKEN].
 */
export function extractFeatures(words: readonly string[], bits: number): Int32Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 24) {
    throw new TaggerError("extractFeatures", "bits", "an integer in 1..24", String(bits));
  }
  const mask = 2 ** bits - 1;
  const out = new Int32Array(words.length * FEATURES_PER_TOKEN);
  for (let index = 0; index < words.length; index++) {
    const features = tokenFeatures(words, index);
    for (let f = 0; f < FEATURES_PER_TOKEN; f++) {
      out[index * FEATURES_PER_TOKEN + f] = hashString(features[f] as string) & mask;
    }
  }
  return out;
}
