import { describe, expect, it } from "vitest";
import { hashString } from "./hash.js";

/** The textbook FNV-1a 32-bit hash, for comparison before the finaliser. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const char of text) {
    h ^= char.charCodeAt(0);
    h = Number((BigInt(h) * 0x01000193n) & 0xffffffffn);
  }
  return h;
}

function fmix32(x: number): number {
  let h = BigInt(x);
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & 0xffffffffn;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & 0xffffffffn;
  h ^= h >> 16n;
  return Number(h);
}

describe("hashString", () => {
  it("is FNV-1a followed by fmix32, computed here with BigInt", () => {
    for (const text of ["", "a", "w=il-", "s3=ħwa", "sh=Xx", "w+2=</s>"]) {
      expect(hashString(text)).toBe(fmix32(fnv1a(text)));
    }
  });

  it("matches the published FNV-1a value of the empty string through the finaliser", () => {
    // FNV-1a("") is the offset basis 0x811c9dc5.
    expect(hashString("")).toBe(fmix32(0x811c9dc5));
  });

  it("returns unsigned 32-bit integers", () => {
    for (const text of ["x", "ġ", "żejt", "12-3"]) {
      const h = hashString(text);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
  });
});
