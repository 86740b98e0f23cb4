import { describe, expect, it } from "vitest";
import { TokenizeError } from "./errors.js";

describe("TokenizeError", () => {
  it("formats fn, argument, expected and got", () => {
    const error = new TokenizeError("encodeWords", "words[1]", "a non-empty string", '""');
    expect(error.message).toBe('encodeWords: words[1]: expected a non-empty string, got ""');
    expect(error.name).toBe("TokenizeError");
    expect(error).toBeInstanceOf(Error);
  });
});
