import { DataError, show } from "./errors.js";

/**
 * Tagging schemes for spans (Ratinov & Roth 2009; Tjong Kim Sang & Veenstra 1999):
 * - `IOB1`: `I-X` inside; `B-X` only starts a span right after another span of the same type.
 * - `BIO` (IOB2): every span starts with `B-X`.
 * - `IOE1`: `I-X` inside; `E-X` only ends a span right before another span of the same type.
 * - `IOE2`: every span ends with `E-X`.
 * - `BIOES` (IOBES): `B-X I-X … E-X`, single-token spans `S-X`.
 * - `BILOU`: `B-X I-X … L-X`, single-token spans `U-X`.
 */
export type TagScheme = "IOB1" | "BIO" | "IOE1" | "IOE2" | "BIOES" | "BILOU";

export const TAG_SCHEMES: readonly TagScheme[] = ["IOB1", "BIO", "IOE1", "IOE2", "BIOES", "BILOU"];

/** A labelled span of tokens, `end` exclusive. */
export interface Span {
  type: string;
  start: number;
  end: number;
}

const TAG = /^([BIESLU])-(.+)$/;

function parse(fn: string, tag: string, index: number): { prefix: string; type: string } {
  if (tag === "O") return { prefix: "O", type: "" };
  const match = TAG.exec(tag);
  if (match === null) throw new DataError(fn, `tags[${index}]`, "O or a prefixed tag like B-PER", show(tag));
  return { prefix: match[1] ?? "", type: match[2] ?? "" };
}

const ALLOWED: Record<TagScheme, string> = {
  IOB1: "OIB",
  BIO: "OIB",
  IOE1: "OIE",
  IOE2: "OIE",
  BIOES: "OBIES",
  BILOU: "OBILU",
};

/** Whether `tags` is valid in `scheme` (prefixes allowed there, and in well-formed order). */
export function isValidTags(tags: readonly string[], scheme: TagScheme): boolean {
  try {
    return sameSpans(tagsToSpans(tags, scheme, "isValidTags"), tags, scheme);
  } catch {
    return false;
  }
}

function sameSpans(spans: Span[], tags: readonly string[], scheme: TagScheme): boolean {
  const again = spansToTags(spans, tags.length, scheme);
  return again.every((tag, i) => tag === tags[i]);
}

/**
 * The spans a tag sequence encodes in `scheme`. Lenient where the schemes are: in BIO an `I-X` that
 * follows `O` or another type starts a span (as conlleval does).
 */
export function tagsToSpans(tags: readonly string[], scheme: TagScheme, fn = "tagsToSpans"): Span[] {
  if (!TAG_SCHEMES.includes(scheme)) {
    throw new DataError(fn, "scheme", TAG_SCHEMES.join(", "), show(scheme));
  }
  const spans: Span[] = [];
  let open: Span | undefined;
  const close = (end: number): void => {
    if (open !== undefined) {
      open.end = end;
      spans.push(open);
      open = undefined;
    }
  };
  tags.forEach((tag, i) => {
    const { prefix, type } = parse(fn, tag, i);
    if (!ALLOWED[scheme].includes(prefix)) {
      throw new DataError(
        fn,
        `tags[${i}]`,
        `a ${scheme} tag (prefixes ${[...ALLOWED[scheme]].join(", ")})`,
        show(tag),
      );
    }
    if (prefix === "O") {
      close(i);
      return;
    }
    const continues = open !== undefined && open.type === type;
    if (!continues || prefix === "B" || prefix === "S" || prefix === "U") {
      close(i);
      open = { type, start: i, end: i + 1 };
    }
    if (prefix === "E" || prefix === "L" || prefix === "S" || prefix === "U") close(i + 1);
  });
  close(tags.length);
  return spans;
}

/** Writes spans as tags of `scheme` over `length` tokens. Spans must not overlap. */
export function spansToTags(spans: readonly Span[], length: number, scheme: TagScheme): string[] {
  if (!TAG_SCHEMES.includes(scheme)) {
    throw new DataError("spansToTags", "scheme", TAG_SCHEMES.join(", "), show(scheme));
  }
  const tags = new Array<string>(length).fill("O");
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  sorted.forEach((span, k) => {
    const previous = sorted[k - 1];
    if (span.start < 0 || span.end > length || span.end <= span.start) {
      throw new DataError(
        "spansToTags",
        `spans[${k}]`,
        `0 <= start < end <= ${length}`,
        `${span.start}..${span.end}`,
      );
    }
    if (previous !== undefined && previous.end > span.start) {
      throw new DataError(
        "spansToTags",
        `spans[${k}]`,
        "spans that do not overlap",
        `${span.start} < ${previous.end}`,
      );
    }
    const next = sorted[k + 1];
    const adjacentBefore =
      previous !== undefined && previous.end === span.start && previous.type === span.type;
    const adjacentAfter = next !== undefined && next.start === span.end && next.type === span.type;
    const single = span.end - span.start === 1;
    for (let i = span.start; i < span.end; i++) tags[i] = `I-${span.type}`;
    const first = span.start;
    const last = span.end - 1;
    if (scheme === "BIO") tags[first] = `B-${span.type}`;
    else if (scheme === "IOB1" && adjacentBefore) tags[first] = `B-${span.type}`;
    else if (scheme === "IOE2") tags[last] = `E-${span.type}`;
    else if (scheme === "IOE1" && adjacentAfter) tags[last] = `E-${span.type}`;
    else if (scheme === "BIOES") {
      if (single) tags[first] = `S-${span.type}`;
      else {
        tags[first] = `B-${span.type}`;
        tags[last] = `E-${span.type}`;
      }
    } else if (scheme === "BILOU") {
      if (single) tags[first] = `U-${span.type}`;
      else {
        tags[first] = `B-${span.type}`;
        tags[last] = `L-${span.type}`;
      }
    }
  });
  return tags;
}

/** Converts a tag sequence from one scheme to another through its spans. */
export function convertTags(tags: readonly string[], from: TagScheme, to: TagScheme): string[] {
  return spansToTags(tagsToSpans(tags, from, "convertTags"), tags.length, to);
}

/**
 * The schemes a corpus could be written in: every scheme in which all sentences are valid, most
 * specific first (a corpus with only `O` and `I-X`, say, is valid IOB1 and IOE1). Throws when none fits.
 */
export function detectScheme(sentences: readonly (readonly string[])[]): TagScheme[] {
  const prefixes = new Set<string>();
  sentences.forEach((tags) => {
    tags.forEach((tag, i) => {
      prefixes.add(parse("detectScheme", tag, i).prefix);
    });
  });
  const order: TagScheme[] = ["BIOES", "BILOU", "BIO", "IOE2", "IOB1", "IOE1"];
  const fits = order.filter(
    (scheme) =>
      [...prefixes].every((p) => ALLOWED[scheme].includes(p)) &&
      sentences.every((tags) => isValidTags(tags, scheme)),
  );
  if (fits.length === 0) {
    throw new DataError(
      "detectScheme",
      "sentences",
      "tags valid in one of IOB1, BIO, IOE1, IOE2, BIOES, BILOU",
      `prefixes ${[...prefixes].sort().join(", ")}`,
    );
  }
  return fits;
}
