import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCli } from "./cli.js";
import { runExperiment } from "./experiment.js";
import { SILENT } from "./progress.js";
import { readRuns } from "./results.js";

const TINY = [
  "--targets",
  "hsb",
  "--sweep",
  "1",
  "--labelled",
  "16",
  "--unlabelled",
  "16",
  "--epochs",
  "2",
  "--source-epochs",
  "1",
  "--batch-size",
  "4",
  "--rounds",
  "1",
  "--pl-quantile",
  "0",
  "--pl-max-entropy",
  "100",
  "--hidden",
  "4",
  "--word-dim",
  "4",
  "--char-hidden",
  "4",
  "--subword-dim",
  "4",
  "--vocab-size",
  "200",
  "--threads",
  "1",
];

function config(argv: string[]) {
  const result = parseCli(argv);
  if (result.help) throw new Error("expected a configuration");
  return result.config;
}

const root = fileURLToPath(new URL("..", import.meta.url));
const main = join(root, "dist", "main.js");

/** Runs without the wall time, which differs between processes. */
function timeless(file: string) {
  return readRuns(file).records.map(({ seconds: _, ...rest }) => rest);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

function lines(file: string): number {
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "").length
    : 0;
}

/** Whether some phase under `out/work` has a checkpoint to resume from. */
function checkpointed(out: string): boolean {
  const work = join(out, "work");
  if (!existsSync(work)) return false;
  const walk = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) =>
      entry.isDirectory()
        ? walk(join(dir, entry.name))
        : entry.name === "latest.json" && dir.endsWith("checkpoints"),
    );
  return walk(work);
}

describe("runExperiment", () => {
  beforeAll(() => {
    // The kill-and-resume test runs the built app in a child process.
    if (!existsSync(main))
      execFileSync(
        process.execPath,
        [createRequire(import.meta.url).resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"],
        {
          cwd: root,
        },
      );
  }, 120_000);

  it("runs every recipe end to end on real data, writes the tables and the plot, and skips finished runs", {
    timeout: 240_000,
  }, async () => {
    const out = mkdtempSync(join(tmpdir(), "transfer-e2e-"));
    const c = config([...TINY, "--seeds", "1,2", "--out", out]);
    const first = await runExperiment(c, SILENT);
    expect(first.trained).toBe(6);
    const records = readRuns(first.files.runs).records;
    expect(records.map((r) => r.key)).toEqual([
      "hsb-baseline-seed1",
      "hsb-transfer-cs+sk-k1-seed1",
      "hsb-pseudo-seed1",
      "hsb-baseline-seed2",
      "hsb-transfer-cs+sk-k1-seed2",
      "hsb-pseudo-seed2",
    ]);
    for (const r of records) {
      expect(r.score).toBeGreaterThan(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(r.sentenceTotals).toHaveLength(64);
      expect(r.labelled).toBe(16);
    }
    // 4 batches of 4 per epoch: 2 epochs on the target, 1 on 16 source sentences first for transfer.
    expect(records[0]?.steps).toBe(8);
    expect(records[1]).toMatchObject({ sourceSentences: 16, steps: 12, epochs: 3 });
    // Quantile 0 and no entropy limit: every unlabelled sentence that is not all O is added.
    expect(records[2]?.pseudoAdded).toEqual([16]);
    expect(readFileSync(first.files.markdown, "utf8")).toContain(
      "| Language | baseline | transfer k=1 | pseudo |",
    );
    expect(readFileSync(first.files.latex, "utf8")).toContain("\\toprule");
    expect(readFileSync(first.files.svg, "utf8")).toContain("<svg");
    // Checkpoints are removed once the runs are recorded.
    expect(readdirSync(join(out, "work"))).toEqual([]);
    const again = await runExperiment(c, SILENT);
    expect(again.trained).toBe(0);
    expect(again.records).toEqual(first.records);
  });

  it("resumes after a kill mid-run: the same runs.jsonl as an uninterrupted run (wall times aside)", {
    timeout: 300_000,
  }, async () => {
    const argv = [...TINY, "--seeds", "1", "--epochs", "3", "--labelled", "32"];
    const whole = mkdtempSync(join(tmpdir(), "transfer-whole-"));
    const cut = mkdtempSync(join(tmpdir(), "transfer-cut-"));
    const uninterrupted = spawn(process.execPath, [main, ...argv, "--out", whole], { stdio: "ignore" });
    expect(await exited(uninterrupted)).toBe(0);
    const total = lines(join(whole, "runs.jsonl"));
    expect(total).toBe(3);

    const child = spawn(process.execPath, [main, ...argv, "--out", cut], { stdio: "ignore" });
    const ended = exited(child);
    let linesAtKill = -1;
    while (linesAtKill < 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (lines(join(cut, "runs.jsonl")) >= 1 && checkpointed(cut)) {
        child.kill("SIGKILL");
        linesAtKill = lines(join(cut, "runs.jsonl"));
      }
    }
    await ended;
    // Killed with a run recorded and another one part-way, checkpointed.
    expect(linesAtKill).toBeGreaterThanOrEqual(1);
    expect(linesAtKill).toBeLessThan(total);
    const resumed = spawn(process.execPath, [main, ...argv, "--out", cut], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let output = "";
    resumed.stdout?.on("data", (chunk) => {
      output += String(chunk);
    });
    expect(await exited(resumed)).toBe(0);
    expect(output).toContain(`resuming: ${linesAtKill} of ${total} runs already finished`);
    expect(timeless(join(cut, "runs.jsonl"))).toEqual(timeless(join(whole, "runs.jsonl")));
  });
});
