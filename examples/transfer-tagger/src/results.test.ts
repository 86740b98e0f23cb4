import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendRun, finishedRuns, readRuns } from "./results.js";
import { record } from "./test-utils/records.js";

describe("runs.jsonl", () => {
  it("reads back what was appended; resuming skips runs whose key and config hash match", () => {
    const file = join(mkdtempSync(join(tmpdir(), "transfer-runs-")), "runs.jsonl");
    expect(readRuns(file)).toEqual({ records: [], unreadable: [] });
    const a = record();
    const b = record({ key: "hsb-pseudo-seed1", recipe: "pseudo", pseudoAdded: [12, 3] });
    appendRun(file, a);
    appendRun(file, b);
    expect(readRuns(file).records).toEqual([a, b]);
    const wanted = new Map([
      ["hsb-baseline-seed1", "abc"],
      ["hsb-pseudo-seed1", "changed"],
    ]);
    expect(finishedRuns(readRuns(file).records, wanted)).toEqual([a]);
  });

  it("a record cut short by a kill is reported and its run trains again; the next append starts a new line", () => {
    const file = join(mkdtempSync(join(tmpdir(), "transfer-runs-")), "runs.jsonl");
    appendRun(file, record());
    appendFileSync(file, '{"key":"hsb-transfer');
    expect(readRuns(file)).toEqual({ records: [record()], unreadable: [2] });
    const next = record({ key: "hsb-pseudo-seed1", recipe: "pseudo" });
    appendRun(file, next);
    expect(readRuns(file)).toEqual({ records: [record(), next], unreadable: [2] });
  });

  it("a JSON line that is not a run record is an error naming the line", () => {
    const file = join(mkdtempSync(join(tmpdir(), "transfer-runs-")), "runs.jsonl");
    writeFileSync(file, `${JSON.stringify(record())}\n{"key":"x"}\n`);
    expect(() => readRuns(file)).toThrow(
      `readRuns: ${file}:2: expected a run record with every field, got {"key":"x"}`,
    );
  });
});
