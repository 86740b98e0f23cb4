import { describe, expect, it } from "vitest";
import { autoDetectScheme } from "./schemes.js";

describe("autoDetectScheme", () => {
  it("detects IOB2, IOE2, IOBES and BILOU from the prefixes used, like seqeval's auto_detect", () => {
    expect(autoDetectScheme([["B-PER", "I-PER", "O"]])).toBe("IOB2");
    expect(autoDetectScheme([["I-PER", "E-PER"], ["O"]])).toBe("IOE2");
    expect(autoDetectScheme([["S-PER"], ["B-LOC", "E-LOC"]])).toBe("IOBES");
    expect(autoDetectScheme([["U-PER"]])).toBe("BILOU");
    expect(autoDetectScheme([["PER-B", "PER-I"]], { suffix: true })).toBe("IOB2");
  });

  it("refuses prefix sets no scheme accounts for", () => {
    expect(() => autoDetectScheme([["I-PER", "O"]])).toThrow(
      "autoDetectScheme: sentences: expected tag prefixes of IOB2, IOE2, IOBES or BILOU (pass `scheme` for IOB1/IOE1), got prefixes {I, O}",
    );
  });
});
