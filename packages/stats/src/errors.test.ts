import { describe, expect, it } from "vitest";
import { StatsError } from "./errors.js";

describe("StatsError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new StatsError("pairedTTest", "b", "5 values like a", "4");
    expect(error.message).toBe("pairedTTest: b: expected 5 values like a, got 4");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("StatsError");
  });
});
