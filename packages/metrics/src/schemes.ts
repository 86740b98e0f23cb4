import { MetricsError } from "./errors.js";

/** The tagging schemes strict mode understands (seqeval's `seqeval.scheme` classes). */
export type Scheme = "IOB1" | "IOB2" | "IOE1" | "IOE2" | "IOBES" | "BILOU";

/** Every scheme strict mode accepts. */
export const SCHEMES: readonly Scheme[] = ["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"];

const PREFIXES = new Set<string>(["I", "O", "B", "E", "S", "U", "L"]);

/** How the previous token's type must relate to the current one for a pattern to fire. */
type TypeCondition = "same" | "diff" | "any";
/** `[previous prefixes, current prefixes, type condition]`. */
type Pattern = readonly [string, string, TypeCondition];

interface SchemeRules {
  readonly allowed: string;
  readonly start: readonly Pattern[];
  readonly inside: readonly Pattern[];
  readonly end: readonly Pattern[];
}

const ANY = "IOBESUL";

/** seqeval 1.2.2 `scheme.py` rules, one table per scheme (prefix sets written as strings of letters). */
const RULES: Record<Scheme, SchemeRules> = {
  IOB1: {
    allowed: "IOB",
    start: [
      ["O", "I", "any"],
      ["I", "I", "diff"],
      ["B", "I", "any"],
      ["I", "B", "same"],
      ["B", "B", "same"],
    ],
    inside: [
      ["B", "I", "same"],
      ["I", "I", "same"],
    ],
    end: [
      ["I", "I", "diff"],
      ["I", "O", "any"],
      ["I", "B", "any"],
      ["B", "O", "any"],
      ["B", "I", "diff"],
      ["B", "B", "same"],
    ],
  },
  IOE1: {
    allowed: "IOE",
    start: [
      ["O", "I", "any"],
      ["I", "I", "diff"],
      ["E", "I", "any"],
      ["E", "E", "same"],
    ],
    inside: [
      ["I", "I", "same"],
      ["I", "E", "same"],
    ],
    end: [
      ["I", "I", "diff"],
      ["I", "O", "any"],
      ["I", "E", "diff"],
      ["E", "I", "same"],
      ["E", "E", "same"],
    ],
  },
  IOB2: {
    allowed: "IOB",
    start: [[ANY, "B", "any"]],
    inside: [
      ["B", "I", "same"],
      ["I", "I", "same"],
    ],
    end: [
      ["I", "O", "any"],
      ["I", "I", "diff"],
      ["I", "B", "any"],
      ["B", "O", "any"],
      ["B", "I", "diff"],
      ["B", "B", "any"],
    ],
  },
  IOE2: {
    allowed: "IOE",
    start: [
      ["O", "I", "any"],
      ["O", "E", "any"],
      ["E", "I", "any"],
      ["E", "E", "any"],
      ["I", "I", "diff"],
      ["I", "E", "diff"],
    ],
    inside: [
      ["I", "E", "same"],
      ["I", "I", "same"],
    ],
    end: [["E", ANY, "any"]],
  },
  IOBES: {
    allowed: "IOBES",
    start: [
      [ANY, "B", "any"],
      [ANY, "S", "any"],
    ],
    inside: [
      ["B", "I", "same"],
      ["B", "E", "same"],
      ["I", "I", "same"],
      ["I", "E", "same"],
    ],
    end: [
      ["S", ANY, "any"],
      ["E", ANY, "any"],
    ],
  },
  BILOU: {
    allowed: "BILOU",
    start: [
      [ANY, "B", "any"],
      [ANY, "U", "any"],
    ],
    inside: [
      ["B", "I", "same"],
      ["B", "L", "same"],
      ["I", "I", "same"],
      ["I", "L", "same"],
    ],
    end: [
      ["U", ANY, "any"],
      ["L", ANY, "any"],
    ],
  },
};

/** A tag split into its prefix letter and its entity type (`"_"` when it has none, as in seqeval). */
export interface ParsedTag {
  readonly prefix: string;
  readonly type: string;
}

/** Strips every leading and trailing `-` (Python's `str.strip("-")`). */
function stripDashes(text: string): string {
  let begin = 0;
  let end = text.length;
  while (begin < end && text[begin] === "-") begin++;
  while (end > begin && text[end - 1] === "-") end--;
  return text.slice(begin, end);
}

/** Splits a tag the way seqeval's strict `Token` does; throws when the prefix letter is unknown. */
export function parseStrictTag(fn: string, argument: string, tag: string, suffix: boolean): ParsedTag {
  const prefix = suffix ? tag.slice(-1) : tag.slice(0, 1);
  if (!PREFIXES.has(prefix)) {
    throw new MetricsError(
      fn,
      argument,
      "a tag whose prefix is one of I, O, B, E, S, U, L",
      JSON.stringify(tag),
    );
  }
  const rest = suffix ? tag.slice(0, -1) : tag.slice(1);
  return { prefix, type: stripDashes(rest) || "_" };
}

function matches(patterns: readonly Pattern[], previous: ParsedTag, current: ParsedTag): boolean {
  for (const [previousPrefixes, currentPrefixes, condition] of patterns) {
    if (!previousPrefixes.includes(previous.prefix) || !currentPrefixes.includes(current.prefix)) continue;
    if (condition === "any") return true;
    if (condition === "same" && previous.type === current.type) return true;
    if (condition === "diff" && previous.type !== current.type) return true;
  }
  return false;
}

const OUTSIDE: ParsedTag = { prefix: "O", type: "_" };

/**
 * Strict chunking of one sentence under `scheme` (seqeval 1.2.2 `Tokens.entities`): an entity counts only
 * when it starts, continues and ends exactly as the scheme prescribes. Returns `[type, start, end)` triples.
 */
export function strictChunks(
  fn: string,
  argument: string,
  tags: readonly string[],
  scheme: Scheme,
  suffix: boolean,
): Array<[string, number, number]> {
  const rules = RULES[scheme];
  const tokens: ParsedTag[] = tags.map((tag) => parseStrictTag(fn, argument, tag, suffix));
  tokens.push(OUTSIDE);
  const chunks: Array<[string, number, number]> = [];
  let previous = OUTSIDE;
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (!rules.allowed.includes(token.prefix)) {
      throw new MetricsError(
        fn,
        argument,
        `tags with prefixes ${rules.allowed.split("").join(", ")} under scheme ${scheme}`,
        JSON.stringify(tags[i]),
      );
    }
    if (matches(rules.start, previous, token)) {
      let end = i + 1;
      let inner = token;
      while (end < tokens.length && matches(rules.inside, inner, tokens[end]!)) {
        inner = tokens[end]!;
        end++;
      }
      if (matches(rules.end, tokens[end - 1]!, tokens[end]!)) chunks.push([token.type, i, end]);
      i = end;
    } else {
      i++;
    }
    previous = tokens[i - 1]!;
  }
  return chunks;
}

const DETECTION: ReadonlyArray<readonly [Scheme, readonly string[]]> = [
  ["IOB2", ["IOB", "IB", "BO", "B"]],
  ["IOE2", ["IOE", "IE", "EO", "E"]],
  ["IOBES", ["IOBES", "IBES", "IOBE", "OBES", "IBE", "BES", "OBE", "BE", "S"]],
  ["BILOU", ["IOBLU", "IBLU", "IOBL", "OBLU", "IBL", "BLU", "OBL", "BL", "U"]],
];

/** `autoDetectScheme` on behalf of the public function `fn`, whose tags are in `argument`. */
export function detectScheme(
  fn: string,
  argument: string,
  sentences: readonly (readonly string[])[],
  suffix: boolean,
): Scheme {
  const seen = new Set<string>();
  for (const sentence of sentences) {
    for (const tag of sentence) seen.add(parseStrictTag(fn, argument, tag, suffix).prefix);
  }
  for (const [scheme, allowed] of DETECTION) {
    for (const set of allowed) {
      if (set.length === seen.size && [...set].every((prefix) => seen.has(prefix))) return scheme;
    }
  }
  throw new MetricsError(
    fn,
    argument,
    "tag prefixes of IOB2, IOE2, IOBES or BILOU (pass `scheme` for IOB1/IOE1)",
    `prefixes {${[...seen].sort().join(", ")}}`,
  );
}

/**
 * Detects the scheme from the set of prefixes used in `sentences`, as seqeval's `auto_detect` does: only
 * IOB2, IOE2, IOBES and BILOU can be detected; anything else is an error.
 */
export function autoDetectScheme(
  sentences: readonly (readonly string[])[],
  options: { readonly suffix?: boolean } = {},
): Scheme {
  return detectScheme("autoDetectScheme", "sentences", sentences, options.suffix ?? false);
}
