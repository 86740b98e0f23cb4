import { describe, expect, it } from "vitest";
import { parsePayload } from "./payload.js";

const job = { method: "lora", task: "upos", seed: 2 };
const valid = { argv: ["--seeds", "2"], defaultOut: "/tmp/out", job, checkpoint: "/tmp/ckpt" };

describe("parsePayload", () => {
  it("reads back what the parent sends", () => {
    expect(parsePayload(JSON.stringify(valid))).toEqual(valid);
  });

  it("names what is wrong with a payload", () => {
    const cases: [string | undefined, string][] = [
      [undefined, "parsePayload: text: expected a JSON payload, got nothing"],
      ["{oops", 'parsePayload: text: expected a JSON payload, got "{oops"'],
      ["[1]", "parsePayload: payload: expected a JSON object, got [1]"],
      ["3", "parsePayload: payload: expected a JSON object, got 3"],
      [
        JSON.stringify({ ...valid, argv: ["--seeds", 2] }),
        'parsePayload: payload.argv: expected a list of strings, got ["--seeds",2]',
      ],
      [
        JSON.stringify({ ...valid, defaultOut: null }),
        "parsePayload: payload.defaultOut: expected a directory, got null",
      ],
      [
        JSON.stringify({ ...valid, checkpoint: 1 }),
        "parsePayload: payload.checkpoint: expected a directory, got 1",
      ],
      [
        JSON.stringify({ ...valid, job: { ...job, task: "ner" } }),
        'parsePayload: payload.job.task: expected one of lm, upos, got "ner"',
      ],
    ];
    for (const [text, message] of cases) expect(() => parsePayload(text), String(text)).toThrow(message);
  });
});
