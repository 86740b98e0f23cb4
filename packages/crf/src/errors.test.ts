import { describe, expect, it } from "vitest";
import { CrfError } from "./errors.js";

describe("CrfError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new CrfError("LinearChainCrf.decode", "lengths[2]", "an integer in 1..5", "7");
    expect(error.message).toBe("LinearChainCrf.decode: lengths[2]: expected an integer in 1..5, got 7");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("CrfError");
  });
});
