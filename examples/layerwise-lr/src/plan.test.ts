import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendRecords, pending, plan, type RunRecord, readRecords } from "./plan.js";

const record = (condition: RunRecord["condition"], seed: number, language: string): RunRecord => ({
  condition,
  seed,
  language,
  role: language === "da" ? "source" : "target",
  score: 0.5,
  steps: 10,
  seconds: 1,
});

describe("plan", () => {
  let directory = "";
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "layerwise-plan-"));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it("lists every condition of seed 1, then of seed 2, …", () => {
    expect(plan(2)).toEqual([
      { condition: "baseline", seed: 1 },
      { condition: "discriminative", seed: 1 },
      { condition: "cosine", seed: 1 },
      { condition: "discriminative+cosine", seed: 1 },
      { condition: "baseline", seed: 2 },
      { condition: "discriminative", seed: 2 },
      { condition: "cosine", seed: 2 },
      { condition: "discriminative+cosine", seed: 2 },
    ]);
    expect(plan(10)).toHaveLength(40);
    expect(() => plan(0)).toThrow("plan: seeds: expected a positive integer, got 0");
  });

  it("resumes: runs with a record for every language are done, the others pending", () => {
    const path = join(directory, "runs.jsonl");
    expect(readRecords(path)).toEqual([]);
    appendRecords(
      path,
      ["da", "fo", "is"].map((language) => record("baseline", 1, language)),
    );
    appendRecords(path, [record("discriminative", 1, "da")]);
    const records = readRecords(path);
    expect(records).toHaveLength(4);
    expect(pending(plan(1), records, ["da", "fo", "is"])).toEqual([
      { condition: "discriminative", seed: 1 },
      { condition: "cosine", seed: 1 },
      { condition: "discriminative+cosine", seed: 1 },
    ]);
  });

  it("ignores a last line cut off mid-write and rejects any other bad line", () => {
    const path = join(directory, "runs.jsonl");
    appendRecords(path, [record("cosine", 2, "fo")]);
    appendFileSync(path, '{"condition":"cosi');
    expect(readRecords(path)).toEqual([record("cosine", 2, "fo")]);
    writeFileSync(path, `{"condition":"cos\n${JSON.stringify(record("cosine", 2, "fo"))}\n`);
    expect(() => readRecords(path)).toThrow(
      `readRecords: ${path}:1: expected a JSON line, got "{\\"condition\\":\\"cos"`,
    );
    const bad = (fields: Record<string, unknown>) => {
      writeFileSync(path, `${JSON.stringify({ ...record("cosine", 2, "fo"), ...fields })}\n`);
      return () => readRecords(path);
    };
    expect(bad({ condition: "slanted" })).toThrow(
      `readRecords: ${path}:1.condition: expected one of baseline, discriminative, cosine, discriminative+cosine, got "slanted"`,
    );
    expect(bad({ score: "high" })).toThrow(
      `readRecords: ${path}:1.score: expected a finite number, got "high"`,
    );
    expect(bad({ language: "" })).toThrow(
      `readRecords: ${path}:1.language: expected a language code, got ""`,
    );
    expect(bad({ role: "both" })).toThrow(
      `readRecords: ${path}:1.role: expected "source" or "target", got "both"`,
    );
    writeFileSync(path, "[1]\n");
    expect(() => readRecords(path)).toThrow(`readRecords: ${path}:1.condition: expected one of`);
    writeFileSync(path, "7\n");
    expect(() => readRecords(path)).toThrow(`readRecords: ${path}:1: expected a JSON object, got 7`);
  });
});
