import { describe, expect, it } from "vitest";
import { median, table } from "./stats.js";

describe("bench helpers", () => {
  it("median of odd and even lists", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow("median: values: expected a non-empty list, got none");
  });
  it("table aligns columns", () => {
    expect(table(["a", "bbb"], [["1", "22"]])).toBe("|  a | bbb |\n| -: | --: |\n|  1 |  22 |");
  });
});
