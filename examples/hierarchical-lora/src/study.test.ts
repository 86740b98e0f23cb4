import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { LANGUAGES, loadHqlData } from "./data.js";
import { METHODS } from "./methods.js";
import { type HqlOptions, parseOptions } from "./options.js";
import { runStudy } from "./study.js";
import { loadTrees } from "./trees.js";

const out = mkdtempSync(join(tmpdir(), "hql-study-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const treesFile = fileURLToPath(new URL("../trees.json", import.meta.url));

/** A tiny comparison on the real data: a 2-layer, hidden-16 base, 4 pretraining steps, 8 sentences per language. */
const options: HqlOptions = {
  ...parseOptions(
    [
      "--seeds",
      "2",
      "--pretrain-steps",
      "4",
      "--epochs",
      "1",
      "--train-size",
      "8",
      "--test-size",
      "6",
      "--batch-size",
      "8",
      "--rank",
      "2",
      "--threads",
      "1",
    ],
    out,
    treesFile,
  ),
  pretrainBatch: 8,
  textCap: 60,
  maxTokens: 24,
  shape: { vocab: 300, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 24 },
};

describe("runStudy", () => {
  it("pretrains the base, trains all four methods over two seeds, writes the tables, resumes, refuses other settings", async () => {
    const { trees, levels } = loadTrees(options.trees, LANGUAGES);
    const data = await loadHqlData(options);
    const lines: string[] = [];
    const first = await runStudy(options, data, trees, levels, (line) => lines.push(line));
    expect(first.ran).toBe(8);
    expect(first.records).toHaveLength(8 * LANGUAGES.length);
    for (const record of first.records) {
      expect(record.score).toBeGreaterThanOrEqual(0);
      expect(record.score).toBeLessThanOrEqual(1);
    }
    // Optimizer steps behind each language's model (batches of 8; 8 sentences per language):
    // per-language 4 levels × 1 epoch × 1 batch; multilingual 4 × 6 batches; a tree path sums its
    // nodes' batches over the languages under each node.
    const steps = (method: string, language: string) =>
      first.records.find((r) => r.method === method && r.language === language && r.seed === 1)?.steps;
    expect(steps("per-language", "sk")).toBe(4);
    expect(steps("multilingual", "sk")).toBe(24);
    expect(steps("hql-phylogenetic", "fo")).toBe(6 + 3 + 3 + 1);
    expect(steps("hql-distant", "fo")).toBe(6 + 2 + 1 + 1);
    expect(steps("hql-distant", "is")).toBe(6 + 4 + 2 + 1);
    for (const file of ["pretrained/model.safetensors", "pretrained/tokenizer.json", "settings.json"])
      expect(existsSync(join(out, file)), file).toBe(true);
    const table = readFileSync(join(out, "table.md"), "utf8");
    expect(table).toContain(`| Language | ${METHODS.join(" | ")} |`);
    for (const language of LANGUAGES) expect(table).toContain(`| ${language} |`);
    expect(readFileSync(join(out, "table.tex"), "utf8")).toContain("\\begin{tabular}");

    // Again: everything is read back, nothing trains.
    const again = await runStudy(options, data, trees, levels, (line) => lines.push(line));
    expect(again.ran).toBe(0);
    expect(again.records).toEqual(first.records);
    expect(lines.some((line) => line.startsWith("0 of 8 runs to go"))).toBe(true);

    // Other settings in the same directory are refused.
    await expect(runStudy({ ...options, epochs: 2 }, data, trees, levels, () => {})).rejects.toThrowError(
      new RegExp(`^runStudy: ${join(out, "settings.json")}: expected results made with .*"epochs":2`),
    );
  }, 600_000);
});
