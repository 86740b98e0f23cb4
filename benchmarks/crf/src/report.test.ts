import { describe, expect, it } from "vitest";
import { formatRate, markdownTable } from "./report.js";

describe("markdownTable", () => {
  it("pads columns and right-aligns numeric ones", () => {
    expect(
      markdownTable(
        ["op", "seq/s"],
        [
          ["decode", "1,200"],
          ["nll", "35.0"],
        ],
      ),
    ).toBe(
      ["| op     | seq/s |", "| ------ | ----: |", "| decode | 1,200 |", "| nll    |  35.0 |"].join("\n"),
    );
  });
});

describe("formatRate", () => {
  it("keeps three significant digits", () => {
    expect(formatRate(123456)).toBe("123,000");
    expect(formatRate(4567.8)).toBe("4,570");
    expect(formatRate(45.678)).toBe("45.7");
  });
});
