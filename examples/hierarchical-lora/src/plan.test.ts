import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { METHODS } from "./methods.js";
import { appendRecords, pending, plan, type RunRecord, readRecords } from "./plan.js";

const directory = mkdtempSync(join(tmpdir(), "hql-plan-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const record = (method: RunRecord["method"], seed: number, language: string, score = 0.5): RunRecord => ({
  method,
  seed,
  language,
  score,
  steps: 10,
  seconds: 1.5,
});

describe("plan", () => {
  it("lists every method of seed 1, then of seed 2, …", () => {
    expect(plan(2).map((run) => `${run.method}/${run.seed}`)).toEqual([
      ...METHODS.map((method) => `${method}/1`),
      ...METHODS.map((method) => `${method}/2`),
    ]);
    expect(() => plan(0)).toThrowError("plan: seeds: expected a positive integer, got 0");
  });
});

describe("records", () => {
  it("append, read back, and leave only unfinished runs pending", () => {
    const path = join(directory, "runs.jsonl");
    expect(readRecords(path)).toEqual([]);
    appendRecords(path, [record("per-language", 1, "fo"), record("per-language", 1, "is")]);
    appendRecords(path, [record("multilingual", 1, "fo")]);
    expect(readRecords(path)).toHaveLength(3);
    const runs = plan(1);
    // per-language seed 1 is done for fo and is; multilingual lacks is; the HQL runs have nothing.
    expect(pending(runs, readRecords(path), ["fo", "is"]).map((run) => run.method)).toEqual([
      "multilingual",
      "hql-phylogenetic",
      "hql-distant",
    ]);
    expect(pending(runs, readRecords(path), ["fo"]).map((run) => run.method)).toEqual([
      "hql-phylogenetic",
      "hql-distant",
    ]);
  });

  it("ignore a last line cut off by a kill, drop it before appending, and let a rerun's record win", () => {
    const path = join(directory, "cut.jsonl");
    writeFileSync(path, `${JSON.stringify(record("per-language", 1, "fo", 0.25))}\n{"method":"multi`);
    expect(readRecords(path)).toEqual([record("per-language", 1, "fo", 0.25)]);
    appendRecords(path, [record("per-language", 1, "fo", 0.75)]);
    expect(readFileSync(path, "utf8").split("\n")).toHaveLength(3);
    expect(readRecords(path)).toEqual([record("per-language", 1, "fo", 0.75)]);
  });

  it("name the line of a malformed record", () => {
    const path = join(directory, "bad.jsonl");
    const good = JSON.stringify(record("hql-distant", 2, "sk"));
    const cases: [string, string][] = [
      ["{oops", `readRecords: ${path}:1: expected a JSON line, got "{oops"`],
      ["[1]", `readRecords: ${path}:1: expected a JSON object, got [1]`],
      [
        JSON.stringify({ ...record("hql-distant", 2, "sk"), method: "other" }),
        `readRecords: ${path}:1.method: expected one of ${METHODS.join(", ")}, got "other"`,
      ],
      [
        JSON.stringify({ ...record("hql-distant", 2, "sk"), score: "high" }),
        `readRecords: ${path}:1.score: expected a finite number, got "high"`,
      ],
      [
        JSON.stringify({ ...record("hql-distant", 2, "sk"), seconds: null }),
        `readRecords: ${path}:1.seconds: expected a finite number, got null`,
      ],
      [
        JSON.stringify({ ...record("hql-distant", 2, "sk"), language: "" }),
        `readRecords: ${path}:1.language: expected a language code, got ""`,
      ],
    ];
    for (const [line, message] of cases) {
      writeFileSync(path, `${line}\n${good}\n`);
      expect(() => readRecords(path), line).toThrowError(message);
    }
  });
});
