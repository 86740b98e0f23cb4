import { describe, expect, it } from "vitest";
import { MetricsError } from "./errors.js";

describe("MetricsError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new MetricsError("f1Score", "yPred", "2 sentences", "3");
    expect(error.message).toBe("f1Score: yPred: expected 2 sentences, got 3");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("MetricsError");
  });
});
