import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCorpus } from "./registry.js";
import {
  convertTags,
  detectScheme,
  isValidTags,
  type Span,
  spansToTags,
  TAG_SCHEMES,
  type TagScheme,
  tagsToSpans,
} from "./schemes.js";

// The same three spans, PER over 0..2, PER over 2..3 (adjacent, same type), LOC over 4..5, in every scheme.
const SPANS: Span[] = [
  { type: "PER", start: 0, end: 2 },
  { type: "PER", start: 2, end: 3 },
  { type: "LOC", start: 4, end: 5 },
];
const WRITTEN: Record<TagScheme, string[]> = {
  IOB1: ["I-PER", "I-PER", "B-PER", "O", "I-LOC"],
  BIO: ["B-PER", "I-PER", "B-PER", "O", "B-LOC"],
  IOE1: ["I-PER", "E-PER", "I-PER", "O", "I-LOC"],
  IOE2: ["I-PER", "E-PER", "E-PER", "O", "E-LOC"],
  BIOES: ["B-PER", "E-PER", "S-PER", "O", "S-LOC"],
  BILOU: ["B-PER", "L-PER", "U-PER", "O", "U-LOC"],
};

describe("tag schemes", () => {
  it.each(TAG_SCHEMES)("writes and reads %s as written out by hand", (scheme) => {
    expect(spansToTags(SPANS, 5, scheme)).toEqual(WRITTEN[scheme]);
    expect(tagsToSpans(WRITTEN[scheme], scheme)).toEqual(SPANS);
    expect(isValidTags(WRITTEN[scheme], scheme)).toBe(true);
  });

  it("converts between every pair of schemes without changing spans (fast-check)", () => {
    const spans = fc
      .array(
        fc.tuple(
          fc.integer({ min: 0, max: 2 }),
          fc.integer({ min: 1, max: 3 }),
          fc.constantFrom("PER", "LOC"),
        ),
        {
          maxLength: 6,
        },
      )
      .map((parts) => {
        const out: Span[] = [];
        let at = 0;
        for (const [gap, length, type] of parts) {
          at += gap;
          out.push({ type, start: at, end: at + length });
          at += length;
        }
        return { spans: out, length: at + 1 };
      });
    fc.assert(
      fc.property(spans, fc.constantFrom(...TAG_SCHEMES), fc.constantFrom(...TAG_SCHEMES), (s, from, to) => {
        const tags = spansToTags(s.spans, s.length, from);
        expect(tagsToSpans(tags, from)).toEqual(s.spans);
        const converted = convertTags(tags, from, to);
        expect(converted).toEqual(spansToTags(s.spans, s.length, to));
        expect(isValidTags(converted, to)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("reads BIO leniently, as conlleval does, but calls it invalid", () => {
    expect(tagsToSpans(["O", "I-PER", "I-PER"], "BIO")).toEqual([{ type: "PER", start: 1, end: 3 }]);
    expect(isValidTags(["O", "I-PER"], "BIO")).toBe(false);
    expect(isValidTags(["B-PER", "E-PER"], "BIO")).toBe(false);
  });

  it("detects the scheme of a corpus", async () => {
    expect(detectScheme([WRITTEN.BIOES])).toEqual(["BIOES"]);
    expect(detectScheme([WRITTEN.BILOU])).toEqual(["BILOU"]);
    expect(detectScheme([WRITTEN.BIO])).toEqual(["BIO"]);
    expect(detectScheme([WRITTEN.IOE2])).toEqual(["IOE2"]);
    expect(detectScheme([["I-PER", "O", "I-LOC"]])).toEqual(["IOB1", "IOE1"]);
    const uner = await loadCorpus("uner/da_ddt", "dev");
    expect(detectScheme(uner.map((s) => s.tags))).toEqual(["BIO"]);
    expect(() => detectScheme([["B-PER", "L-PER", "S-LOC"]])).toThrow(
      "detectScheme: sentences: expected tags valid in one of IOB1, BIO, IOE1, IOE2, BIOES, BILOU, got prefixes B, L, S",
    );
  });

  it("rejects bad input with typed errors", () => {
    expect(() => tagsToSpans(["PER"], "BIO")).toThrow(
      'tagsToSpans: tags[0]: expected O or a prefixed tag like B-PER, got "PER"',
    );
    expect(() => tagsToSpans(["S-PER"], "BIO")).toThrow(
      'tagsToSpans: tags[0]: expected a BIO tag (prefixes O, I, B), got "S-PER"',
    );
    expect(() => tagsToSpans(["O"], "IOB2" as TagScheme)).toThrow(
      'tagsToSpans: scheme: expected IOB1, BIO, IOE1, IOE2, BIOES, BILOU, got "IOB2"',
    );
    expect(() => spansToTags([{ type: "X", start: 1, end: 1 }], 3, "BIO")).toThrow(
      "spansToTags: spans[0]: expected 0 <= start < end <= 3, got 1..1",
    );
    expect(() =>
      spansToTags(
        [
          { type: "X", start: 0, end: 2 },
          { type: "X", start: 1, end: 3 },
        ],
        3,
        "BIO",
      ),
    ).toThrow("spansToTags: spans[1]: expected spans that do not overlap, got 1 < 2");
    expect(() => spansToTags([], 3, "BIOS" as TagScheme)).toThrow("spansToTags: scheme: expected IOB1");
  });
});
