import { describe, expect, it } from "vitest";
import { TaggerError } from "./errors.js";

describe("TaggerError", () => {
  it("names the function and argument and says what was expected and what came", () => {
    const error = new TaggerError("train", "options.epochs", "an integer >= 1", "0");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("TaggerError");
    expect(error.message).toBe("train: options.epochs: expected an integer >= 1, got 0");
    expect([error.fn, error.argument, error.expected, error.got]).toEqual([
      "train",
      "options.epochs",
      "an integer >= 1",
      "0",
    ]);
  });
});
