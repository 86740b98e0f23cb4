import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStudyData, type StudyData } from "./data.js";
import { parseOptions, type StudyOptions } from "./options.js";
import { readRecords } from "./plan.js";
import { runStudy } from "./study.js";

const out = mkdtempSync(join(tmpdir(), "layerwise-study-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A tiny study: a 2-layer, hidden-16 encoder, 4 pretraining steps, 2 seeds, 1 epoch on 24 sentences. */
const options: StudyOptions = {
  ...parseOptions(
    [
      "--seeds",
      "2",
      "--pretrain-steps",
      "4",
      "--epochs",
      "1",
      "--blocks",
      "2",
      "--batch-size",
      "8",
      "--threads",
      "1",
    ],
    out,
  ),
  pretrainBatch: 8,
  maxTokens: 24,
  shape: { vocab: 300, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 24 },
};

async function tinyData(): Promise<StudyData> {
  const data = await loadStudyData();
  return {
    text: new Map([...data.text].map(([language, sentences]) => [language, sentences.slice(0, 60)])),
    train: data.train.slice(0, 24),
    evaluations: data.evaluations.map((evaluation) => ({
      ...evaluation,
      sentences: evaluation.sentences.slice(0, 12),
    })),
    tags: data.tags,
  };
}

describe("runStudy", () => {
  it("loads the bundled data with no evaluation sentence in the pretraining text", async () => {
    const data = await loadStudyData();
    expect(data.evaluations.map((e) => [e.language, e.role])).toEqual([
      ["da", "source"],
      ["fo", "target"],
      ["is", "target"],
    ]);
    expect([...data.text.keys()]).toEqual(["da", "sv", "fo", "is"]);
    const text = new Set([...data.text.values()].flat().map((words) => words.join(" ")));
    for (const evaluation of data.evaluations) {
      const leaked = evaluation.sentences.filter((s) => text.has(s.words.join(" ")) && s.words.length > 6);
      expect(leaked.length, evaluation.language).toBe(0);
    }
    expect(data.tags).toContain("NOUN");
  });

  it("pretrains, fine-tunes every condition and seed, writes the tables, and resumes from runs.jsonl", async () => {
    const lines: string[] = [];
    const data = await tinyData();
    const first = await runStudy(options, data, (line) => lines.push(line));
    expect(first.ran).toBe(8);
    expect(first.records).toHaveLength(24);
    for (const record of first.records) {
      expect(record.score).toBeGreaterThanOrEqual(0);
      expect(record.score).toBeLessThanOrEqual(1);
    }
    for (const file of [
      "pretrained/config.json",
      "pretrained/model.safetensors",
      "pretrained/tokenizer.json",
      "table.md",
      "table.tex",
    ])
      expect(existsSync(join(out, file)), file).toBe(true);
    const latex = readFileSync(join(out, "table.tex"), "utf8");
    expect(latex).toContain("\\toprule");
    expect(latex).toContain("discriminative+cosine");
    expect(first.report?.table.languages).toEqual(["fo", "is"]);
    // Again: the encoder comes from the cache and every run from runs.jsonl.
    const again = await runStudy(options, data, (line) => lines.push(line));
    expect(again.ran).toBe(0);
    expect(again.records).toEqual(first.records);
    expect(lines.some((line) => line.startsWith("pretrained encoder: reusing"))).toBe(true);
    expect(readRecords(join(out, "runs.jsonl"))).toHaveLength(24);
    await expect(runStudy({ ...options, epochs: 2 }, data, () => {})).rejects.toThrow(
      /^runStudy: .*settings\.json: expected results made with/,
    );
    await expect(
      runStudy({ ...options, pretrainSteps: 5, checkpoint: null }, data, () => {}),
    ).rejects.toThrow(/^ensurePretrained: .*pretrained: expected an encoder pretrained with/);
    // A checkpoint whose tokenizer has no padding token cannot be batched.
    const copy = join(out, "no-pad");
    cpSync(join(out, "pretrained"), copy, { recursive: true });
    const tokenizerPath = join(copy, "tokenizer.json");
    writeFileSync(tokenizerPath, readFileSync(tokenizerPath, "utf8").replaceAll('"[PAD]"', '"[NOPAD]"'));
    await expect(
      runStudy({ ...options, checkpoint: copy, out: join(out, "other") }, data, () => {}),
    ).rejects.toThrow("runStudy: tokenizer: expected a padding token, got none");
  }, 600_000);
});
