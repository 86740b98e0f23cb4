import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appendRecord, checkJob, pending, plan, type RunRecord, readRecords } from "./plan.js";

const directory = mkdtempSync(join(tmpdir(), "peft-compare-plan-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const record = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  method: "lora",
  task: "lm",
  seed: 1,
  score: 120.5,
  pseudoPerplexity: 150.25,
  tokens: 900,
  trainable: 8192,
  total: 1_300_000,
  frozenBytes: 5_000_000,
  steps: 77,
  stepMs: 41.5,
  stepMemoryMiB: 12.5,
  seconds: 9.5,
  ...overrides,
});

describe("plan", () => {
  it("evaluates the unadapted encoder first, then every method on both tasks seed by seed", () => {
    expect(plan(2, ["full", "lora"])).toEqual([
      { method: "none", task: "lm", seed: 0 },
      { method: "full", task: "lm", seed: 1 },
      { method: "full", task: "upos", seed: 1 },
      { method: "lora", task: "lm", seed: 1 },
      { method: "lora", task: "upos", seed: 1 },
      { method: "full", task: "lm", seed: 2 },
      { method: "full", task: "upos", seed: 2 },
      { method: "lora", task: "lm", seed: 2 },
      { method: "lora", task: "upos", seed: 2 },
    ]);
    expect(() => plan(0, ["full"])).toThrow("plan: seeds: expected a positive integer, got 0");
    expect(() => plan(2, [])).toThrow("plan: methods: expected at least one method, got none");
  });

  it("leaves out the jobs that have a record", () => {
    const jobs = plan(2, ["full"]);
    const done = [record({ method: "none", seed: 0 }), record({ method: "full", task: "upos", seed: 1 })];
    expect(pending(jobs, done)).toEqual([
      { method: "full", task: "lm", seed: 1 },
      { method: "full", task: "lm", seed: 2 },
      { method: "full", task: "upos", seed: 2 },
    ]);
  });
});

describe("readRecords and appendRecord", () => {
  it("reads back what was appended; no file means no records", () => {
    const path = join(directory, "a.jsonl");
    expect(readRecords(path)).toEqual([]);
    appendRecord(path, record());
    appendRecord(path, record({ task: "upos", pseudoPerplexity: null, stepMemoryMiB: null, score: 0.8 }));
    expect(readRecords(path)).toEqual([
      record(),
      record({ task: "upos", pseudoPerplexity: null, stepMemoryMiB: null, score: 0.8 }),
    ]);
  });

  it("ignores a last line cut off by a kill, and drops it before appending the next record", () => {
    const path = join(directory, "b.jsonl");
    writeFileSync(path, `${JSON.stringify(record())}\n{"method":"lo`);
    expect(readRecords(path)).toEqual([record()]);
    appendRecord(path, record({ seed: 2 }));
    expect(readFileSync(path, "utf8").split("\n")).toHaveLength(3);
    expect(readRecords(path)).toEqual([record(), record({ seed: 2 })]);
  });

  it("names the line and field of a bad record", () => {
    const path = join(directory, "c.jsonl");
    const cases: [string, string][] = [
      ["not json\n{}", `readRecords: ${path}:1: expected a JSON line, got "not json"`],
      [
        "[1]",
        `readRecords: ${path}:1.method: expected one of none, full, lora, qlora, houlsby, pfeiffer, bitfit, prompt, embedding, got undefined`,
      ],
      ["3", `readRecords: ${path}:1: expected a JSON object, got 3`],
      [
        JSON.stringify({ ...record(), method: "dora" }),
        `readRecords: ${path}:1.method: expected one of none, full, lora, qlora, houlsby, pfeiffer, bitfit, prompt, embedding, got "dora"`,
      ],
      [
        JSON.stringify({ ...record(), task: "ner" }),
        `readRecords: ${path}:1.task: expected one of lm, upos, got "ner"`,
      ],
      [
        JSON.stringify({ ...record(), seed: -1 }),
        `readRecords: ${path}:1.seed: expected an integer >= 0, got -1`,
      ],
      [
        JSON.stringify({ ...record(), score: "1" }),
        `readRecords: ${path}:1.score: expected a finite number, got "1"`,
      ],
      [
        JSON.stringify({ ...record(), seconds: null }),
        `readRecords: ${path}:1.seconds: expected a finite number, got null`,
      ],
      [
        JSON.stringify({ ...record(), stepMs: "fast" }),
        `readRecords: ${path}:1.stepMs: expected a finite number or null, got "fast"`,
      ],
    ];
    for (const [text, message] of cases) {
      writeFileSync(path, `${text}\n`);
      expect(() => readRecords(path), text).toThrow(message);
    }
  });

  it("checks a job on its own", () => {
    expect(checkJob({ method: "qlora", task: "upos", seed: 3 }, "job", "fn")).toEqual({
      method: "qlora",
      task: "upos",
      seed: 3,
    });
    expect(() => checkJob(null, "payload.job", "job")).toThrow(
      "job: payload.job: expected a JSON object, got null",
    );
  });
});
