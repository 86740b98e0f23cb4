import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompareData } from "./data.js";
import { type CompareOptions, parseOptions } from "./options.js";
import { readRecords } from "./plan.js";
import type { EncodedData } from "./run.js";
import { childProcessRunner, inProcessRunner, pretrainingOptions, runStudy, studySettings } from "./study.js";
import { TINY_MAX_TOKENS, tinyCheckpoint, tinyData } from "./test-utils/fixture.js";

const root = mkdtempSync(join(tmpdir(), "peft-compare-study-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let data: CompareData;
/** The child processes encode their own data: the runner never reads what it is given. */
const unusedData: EncodedData = {
  special: { "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4 },
  vocabSize: 5,
  lmTrain: [],
  lmEvaluation: [],
  pseudoSentences: [],
  tagTrain: [],
  tagTest: [],
  tags: [],
};
let checkpoint = "";
beforeAll(async () => {
  data = await tinyData();
  checkpoint = await tinyCheckpoint(join(root, "base"));
});

/** A tiny comparison on the tiny checkpoint: 2 seeds, full fine-tuning and LoRA, one epoch each. */
function options(out: string, extra: string[] = []): CompareOptions {
  return {
    ...parseOptions(
      [
        "--seeds",
        "2",
        "--methods",
        "full,lora",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--checkpoint",
        checkpoint,
        ...extra,
      ],
      out,
    ),
    maxTokens: TINY_MAX_TOKENS,
  };
}

describe("runStudy", () => {
  it("runs every planned job, writes records and tables, and resumes from runs.jsonl", async () => {
    const out = join(root, "a");
    const lines: string[] = [];
    const first = await runStudy(
      options(out),
      data,
      (line) => lines.push(line),
      inProcessRunner(options(out)),
    );
    expect(first.ran).toBe(9);
    expect(first.records).toHaveLength(9);
    expect(lines[0]).toContain("runs: 9 of 9 to go");
    expect(lines[1]).toMatch(
      /^run 1\/9 none lm seed 0: perplexity \d+\.\d, pseudo-perplexity \d+\.\d \(0 trainable, \d+(\.\d)? s\)$/,
    );
    expect(
      lines.some((line) =>
        /^run \d\/9 lora upos seed 2: accuracy \d+\.\d% \(\d[\d,]* trainable, \d+ ms\/step/.test(line),
      ),
    ).toBe(true);
    for (const file of ["runs.jsonl", "settings.json", "table.md", "table.tex"])
      expect(existsSync(join(out, file)), file).toBe(true);
    const table = readFileSync(join(out, "table.md"), "utf8");
    expect(table).toContain("| pretrained, not adapted |");
    expect(table).toContain("| full fine-tuning |");
    expect(table).toMatch(/\| LoRA \| [\d,]+ \(\d+\.\d\d%\) \|/);
    expect(first.report?.table.comparisons).toHaveLength(2);
    // Again: everything is read back, nothing runs.
    const again = await runStudy(options(out), data, () => {}, inProcessRunner(options(out)));
    expect(again.ran).toBe(0);
    expect(again.records).toEqual(first.records);
    // A third seed adds only its own runs.
    const more = options(out, ["--seeds", "3"]);
    const third = await runStudy(more, data, () => {}, inProcessRunner(more));
    expect(third.ran).toBe(4);
    expect(readRecords(join(out, "runs.jsonl"))).toHaveLength(13);
  });

  it("refuses results made with other settings, and makes no table from one seed", async () => {
    const out = join(root, "b");
    const one = options(out, ["--seeds", "1", "--methods", "full"]);
    const lines: string[] = [];
    const result = await runStudy(one, data, (line) => lines.push(line), inProcessRunner(one));
    expect(result.report).toBeNull();
    expect(lines.at(-1)).toBe("one seed per method: no table (ASO needs at least two)");
    expect(existsSync(join(out, "table.md"))).toBe(false);
    const other = options(out, ["--seeds", "1", "--methods", "full", "--tag-epochs", "2"]);
    await expect(runStudy(other, data, () => {}, inProcessRunner(other))).rejects.toThrow(
      `runStudy: ${join(out, "settings.json")}: expected results made with`,
    );
  });

  it("runs a job in a child process and reads its record from the last line, or says why not", async () => {
    const record = {
      method: "lora",
      task: "lm",
      seed: 1,
      score: 12.5,
      pseudoPerplexity: 13,
      tokens: 100,
      trainable: 10,
      total: 1000,
      frozenBytes: 4000,
      steps: 3,
      stepMs: 2,
      stepMemoryMiB: null,
      seconds: 1,
    };
    const script = (name: string, body: string) => {
      const path = join(root, name);
      writeFileSync(path, body);
      return path;
    };
    const job = { method: "lora", task: "lm", seed: 1 } as const;
    const echo = script(
      "echo.mjs",
      `const payload = JSON.parse(process.argv[2]);
console.log("progress");
console.log(JSON.stringify({ ...${JSON.stringify(record)}, seed: payload.job.seed }));`,
    );
    expect(await childProcessRunner(["--seeds", "2"], root, echo)(job, checkpoint, unusedData)).toEqual(
      record,
    );
    const failing = script("fail.mjs", "process.exit(3);");
    await expect(childProcessRunner([], root, failing)(job, checkpoint, unusedData)).rejects.toThrow(
      'childProcessRunner: job {"method":"lora","task":"lm","seed":1}: expected exit code 0, got 3',
    );
    const garbage = script("garbage.mjs", 'console.log("done");');
    await expect(childProcessRunner([], root, garbage)(job, checkpoint, unusedData)).rejects.toThrow(
      `childProcessRunner: the child's last line: expected a JSON record, got "done"`,
    );
  });

  it("needs the checkpoint's tokenizer", async () => {
    const out = join(root, "c");
    const empty = join(root, "empty");
    const broken = { ...options(out), checkpoint: empty };
    await expect(runStudy(broken, data, () => {}, inProcessRunner(broken))).rejects.toThrow(
      `runStudy: checkpoint: expected a tokenizer.json in ${empty}, got none`,
    );
  });

  it("records the cached encoder relative to the output directory, any other checkpoint as given", () => {
    const out = join(root, "e");
    expect(studySettings(options(out), join(out, "pretrained")).checkpoint).toBe("pretrained");
    expect(studySettings(options(out), checkpoint).checkpoint).toBe(checkpoint);
    expect(studySettings(options(out), `${out}-other`).checkpoint).toBe(`${out}-other`);
  });

  it("pretrains with layerwise-lr's recipe into the comparison's own directory", () => {
    const pretraining = pretrainingOptions(options(join(root, "d")));
    expect(pretraining).toMatchObject({
      out: join(root, "d"),
      pretrainSteps: 400,
      maxTokens: 64,
      shape: { vocab: 4000, hidden: 128, layers: 4, heads: 4, intermediate: 512, maxPositions: 64 },
    });
  });
});
