import { describe, expect, it } from "vitest";
import { extractFeatures, FEATURES_PER_TOKEN, tokenFeatures, wordShape } from "./features.js";
import { hashString } from "./hash.js";

describe("wordShape", () => {
  it("collapses runs of upper, lower, digit and keeps other characters", () => {
    expect(wordShape("Maġistrat")).toBe("Xx");
    expect(wordShape("il-")).toBe("x-");
    expect(wordShape("12.5")).toBe("d.d");
    expect(wordShape("EU")).toBe("X");
    expect(wordShape("b'tixħim")).toBe("x'x");
    expect(wordShape("ĦAMES")).toBe("X");
  });
});

describe("tokenFeatures", () => {
  const words = ["Il-", "Qorti", "ta'", "12"];

  it("lists every template for a word in the middle", () => {
    expect(tokenFeatures(words, 1)).toEqual([
      "bias",
      "w=Qorti",
      "l=qorti",
      "p1=q",
      "p2=qo",
      "p3=qor",
      "p4=qort",
      "s1=i",
      "s2=ti",
      "s3=rti",
      "s4=orti",
      "shape=Xx",
      "digit=0",
      "hyphen=0",
      "cap=1",
      "upper=0",
      "w-1=il-",
      "w+1=ta'",
      "w-2=<s-1>",
      "w+2=12",
      "w-1|w=il-|qorti",
    ]);
  });

  it("marks the sentence boundaries and short words", () => {
    const first = tokenFeatures(words, 0);
    expect(first).toContain("w-1=<s-1>");
    expect(first).toContain("w-2=<s-2>");
    expect(first).toContain("hyphen=1");
    const last = tokenFeatures(words, 3);
    expect(last).toContain("w+1=</s+1>");
    expect(last).toContain("w+2=</s+2>");
    expect(last).toContain("digit=1");
    expect(last).toContain("p4=12");
    expect(last).toContain("upper=0");
    expect(tokenFeatures(["EU"], 0)).toContain("upper=1");
  });

  it("fires exactly FEATURES_PER_TOKEN distinct templates", () => {
    for (let index = 0; index < words.length; index++) {
      const features = tokenFeatures(words, index);
      expect(features).toHaveLength(FEATURES_PER_TOKEN);
      expect(new Set(features.map((f) => f.split("=")[0])).size).toBe(FEATURES_PER_TOKEN);
    }
  });

  it("rejects an index outside the sentence", () => {
    expect(() => tokenFeatures(words, 4)).toThrow("tokenFeatures: index: expected an index in 0..3, got 4");
  });
});

describe("extractFeatures", () => {
  it("hashes each token's features into the bucket range, row by row", () => {
    const words = ["Il-", "Qorti", "ta'"];
    const bits = 10;
    const buckets = extractFeatures(words, bits);
    expect(buckets).toHaveLength(words.length * FEATURES_PER_TOKEN);
    for (let index = 0; index < words.length; index++) {
      const expected = tokenFeatures(words, index).map((f) => hashString(f) % 2 ** bits);
      expect(
        Array.from(buckets.subarray(index * FEATURES_PER_TOKEN, (index + 1) * FEATURES_PER_TOKEN)),
      ).toEqual(expected);
    }
  });

  it("rejects a bucket count outside 2^1..2^24", () => {
    expect(() => extractFeatures(["a"], 0)).toThrow(
      "extractFeatures: bits: expected an integer in 1..24, got 0",
    );
  });
});
