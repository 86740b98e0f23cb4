import { describe, expect, it } from "vitest";
import { DataError } from "./errors.js";

describe("DataError", () => {
  it("formats fn, argument, expected and got", () => {
    const error = new DataError("loadCorpus", "split", "a split of ud/hsb_ufal (test)", '"train"');
    expect(error.message).toBe('loadCorpus: split: expected a split of ud/hsb_ufal (test), got "train"');
    expect(error.name).toBe("DataError");
    expect(error.location).toBeUndefined();
    expect(error).toBeInstanceOf(Error);
  });

  it("names file:line for errors inside a file", () => {
    const error = DataError.at("readConllu", { source: "a.conllu", line: 12 }, "10 columns", "9");
    expect(error.message).toBe("readConllu: a.conllu:12: expected 10 columns, got 9");
    expect(error.location).toEqual({ source: "a.conllu", line: 12 });
    expect(error.argument).toBe("a.conllu:12");
  });
});
