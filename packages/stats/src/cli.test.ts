import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, USAGE } from "./cli-main.js";

function run(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

const directory = mkdtempSync(join(tmpdir(), "xlt-stats-"));
const lines: string[] = [];
for (const [condition, shift] of [
  ["baseline", 0],
  ["dlr", 0.012],
] as const) {
  for (let seed = 1; seed <= 5; seed++) {
    for (const [language, base] of [
      ["de", 0.8],
      ["da", 0.75],
    ] as const) {
      lines.push(JSON.stringify({ condition, seed, language, f1: base + shift + ((seed * 7) % 5) / 1000 }));
    }
  }
}
const jsonl = join(directory, "runs.jsonl");
writeFileSync(jsonl, `${lines.join("\n")}\n`);

describe("xlt-stats", () => {
  it("turns a JSONL of runs into Markdown and a LaTeX file", () => {
    const out = join(directory, "table");
    const result = run([jsonl, "--metric", "f1", "--out", out, "--scale", "100", "--digits", "1"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe("| Language | baseline | dlr |");
    expect(result.stdout).toContain("ASO (Dror et al. 2019)");
    expect(readFileSync(`${out}.md`, "utf8")).toBe(result.stdout);
    const latex = readFileSync(`${out}.tex`, "utf8");
    expect(latex).toContain("\\toprule");
    expect(latex).toMatch(
      /de & \$80\.2 \\pm 0\.2\$ & \$81\.4 \\pm 0\.2\^\{\*\} \\;\(\\varepsilon = 0\.000\)\$/,
    );
  });

  it("prints LaTeX with --format tex and honours --test and --strict", () => {
    const result = run([jsonl, "--metric", "f1", "--format", "tex", "--test", "wilcoxon"]);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith("\\begin{table}[t]")).toBe(true);
    expect(run([jsonl, "--metric", "f1", "--strict"]).stdout).toContain("< 0.2");
  });

  it("reads CSV", () => {
    const csv = join(directory, "runs.csv");
    writeFileSync(csv, "condition,seed,score\na,1,0.5\na,2,0.6\nb,1,0.7\nb,2,0.8\n");
    const result = run([csv, "--test", "welch"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("| all | 0.550 ± 0.071 |");
  });

  it("points a bad score at its line in the file", () => {
    const csv = join(directory, "blank.csv");
    writeFileSync(csv, "condition,seed,score\n\na,1,0.5\na,2,0.6\n\nb,1,\nb,2,0.8\n");
    expect(run([csv, "--test", "welch"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `xlt-stats: compareConditions: runs[2].score (${csv} line 6): expected a finite number or a decimal number string, got ""\n`,
    });
    const jsonlWithBlank = join(directory, "blank.jsonl");
    writeFileSync(
      jsonlWithBlank,
      `${lines.slice(0, 3).join("\n")}\n\n${lines[3]!.replace(/"f1":[^}]*/, '"f1":true')}\n`,
    );
    expect(run([jsonlWithBlank, "--metric", "f1"]).stderr).toBe(
      `xlt-stats: compareConditions: runs[3].f1 (${jsonlWithBlank} line 5): expected a finite number or a decimal number string, got true\n`,
    );
  });

  it("explains usage errors and bad files with exit code 1", () => {
    expect(run(["--help"])).toEqual({ code: 0, stdout: USAGE, stderr: "" });
    expect(run([])).toEqual({
      code: 1,
      stdout: "",
      stderr: "xlt-stats: xlt-stats: RUNS: expected one results file (.csv or .jsonl), got 0 arguments\n",
    });
    expect(run(["runs.txt"]).stderr).toBe(
      'xlt-stats: xlt-stats: RUNS: expected a .csv or .jsonl file, got "runs.txt"\n',
    );
    expect(run([jsonl]).stderr).toBe(
      `xlt-stats: compareConditions: runs[0] (${jsonl} line 1): expected a "score" column, got none\n`,
    );
    expect(run([jsonl, "--metric", "f1", "--digits", "many"]).stderr).toBe(
      'xlt-stats: xlt-stats: --digits: expected a number, got "many"\n',
    );
    expect(run([jsonl, "--metric", "f1", "--test", "permutation", "--seed", "1.5"]).stderr).toBe(
      "xlt-stats: compareConditions: options.seed: expected an integer in 0..4294967295, got 1.5\n",
    );
    expect(run([jsonl, "--metric", "f1", "--digits=-1"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "xlt-stats: xlt-stats: --digits: expected an integer in 0..20, got -1\n",
    });
    expect(run([jsonl, "--metric", "f1", "--digits", "2.5"]).stderr).toBe(
      "xlt-stats: xlt-stats: --digits: expected an integer in 0..20, got 2.5\n",
    );
    expect(run([jsonl, "--metric", "f1", "--scale", "0"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "xlt-stats: xlt-stats: --scale: expected a finite number > 0, got 0\n",
    });
    expect(run([jsonl, "--metric", "f1", "--test", "anova"]).code).toBe(1);
    expect(run([join(directory, "missing.csv")]).code).toBe(2);
  });
});
