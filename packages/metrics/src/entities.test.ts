import { describe, expect, it } from "vitest";
import { getEntities } from "./entities.js";
import { MetricsError } from "./errors.js";

describe("getEntities (default, lenient)", () => {
  it("returns half-open spans like seqeval's get_entities (whose end is inclusive)", () => {
    expect(getEntities(["B-PER", "I-PER", "O", "B-LOC"])).toEqual([
      { type: "PER", start: 0, end: 2 },
      { type: "LOC", start: 3, end: 4 },
    ]);
  });

  it("opens an entity at I- after O and splits on a type change, as conlleval does", () => {
    expect(getEntities(["O", "I-MISC", "I-MISC", "I-PER", "B-PER"])).toEqual([
      { type: "MISC", start: 1, end: 3 },
      { type: "PER", start: 3, end: 4 },
      { type: "PER", start: 4, end: 5 },
    ]);
  });

  it("reads IOBES tags and suffix tags", () => {
    expect(getEntities(["S-LOC", "B-ORG", "E-ORG"])).toEqual([
      { type: "LOC", start: 0, end: 1 },
      { type: "ORG", start: 1, end: 3 },
    ]);
    expect(getEntities(["PER-B", "PER-I", "O"], { suffix: true })).toEqual([
      { type: "PER", start: 0, end: 2 },
    ]);
  });
});

describe("getEntities (strict)", () => {
  it("drops entities that are not well formed under the scheme", () => {
    expect(getEntities(["I-PER", "I-PER", "O", "B-LOC"], { mode: "strict", scheme: "IOB2" })).toEqual([
      { type: "LOC", start: 3, end: 4 },
    ]);
    expect(getEntities(["I-PER", "I-PER", "O"], { mode: "strict", scheme: "IOB1" })).toEqual([
      { type: "PER", start: 0, end: 2 },
    ]);
  });

  it("detects the scheme when none is given", () => {
    expect(getEntities(["B-PER", "L-PER", "U-LOC"], { mode: "strict" })).toEqual([
      { type: "PER", start: 0, end: 2 },
      { type: "LOC", start: 2, end: 3 },
    ]);
  });

  it("says which tag breaks the scheme", () => {
    expect(() => getEntities(["B-PER", "E-PER"], { mode: "strict", scheme: "IOB2" })).toThrow(
      'getEntities: tags: expected tags with prefixes I, O, B under scheme IOB2, got "E-PER"',
    );
    expect(() => getEntities(["X-PER"], { mode: "strict", scheme: "IOB2" })).toThrow(
      'getEntities: tags: expected a tag whose prefix is one of I, O, B, E, S, U, L, got "X-PER"',
    );
  });

  it("names getEntities and tags when it cannot detect the scheme", () => {
    expect(() => getEntities(["I-PER", "O"], { mode: "strict" })).toThrow(
      "getEntities: tags: expected tag prefixes of IOB2, IOE2, IOBES or BILOU (pass `scheme` for IOB1/IOE1), got prefixes {I, O}",
    );
    expect(() => getEntities(["X-PER"], { mode: "strict" })).toThrow(
      'getEntities: tags: expected a tag whose prefix is one of I, O, B, E, S, U, L, got "X-PER"',
    );
  });
});

describe("getEntities validation", () => {
  it("rejects bad tags and options with typed errors", () => {
    expect(() => getEntities(["B-PER", ""])).toThrow(MetricsError);
    expect(() => getEntities(["B-PER", ""])).toThrow(
      'getEntities: tags[1]: expected a non-empty string tag, got ""',
    );
    expect(() => getEntities(JSON.parse('"B-PER"'))).toThrow(
      "getEntities: tags: expected an array of tags, got string",
    );
    // @ts-expect-error: an invalid mode on purpose
    expect(() => getEntities(["O"], { mode: "lenient" })).toThrow(
      'getEntities: options.mode: expected "default" or "strict", got "lenient"',
    );
    // @ts-expect-error: an invalid scheme on purpose
    expect(() => getEntities(["O"], { mode: "strict", scheme: "BIO" })).toThrow(
      'getEntities: options.scheme: expected one of IOB1, IOB2, IOE1, IOE2, IOBES, BILOU, got "BIO"',
    );
  });
});
