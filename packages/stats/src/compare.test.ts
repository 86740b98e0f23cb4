import { describe, expect, it } from "vitest";
import { adjustPValues } from "./adjust.js";
import { aso } from "./aso.js";
import { compareConditions } from "./compare.js";
import { parseCsv, parseJsonl, readCsv, readJsonl } from "./runs.js";
import { pairedTTest } from "./t-test.js";
import { toLatex, toMarkdown } from "./table.js";

const CSV = `condition,seed,language,f1
baseline,1,de,0.801
baseline,2,de,0.795
baseline,3,de,0.806
baseline,4,de,0.799
dlr,1,de,0.815
dlr,2,de,0.812
dlr,3,de,0.818
dlr,4,de,0.809
baseline,1,hu,0.702
baseline,2,hu,0.711
baseline,3,hu,0.705
baseline,4,hu,0.699
dlr,1,hu,0.704
dlr,2,hu,0.709
dlr,3,hu,0.703
dlr,4,hu,0.708
`;

describe("parseCsv / parseJsonl", () => {
  it("reads quoted CSV fields and JSON Lines", () => {
    expect(parseCsv('a,b\n"x, y",2\n')).toEqual([{ a: "x, y", b: "2" }]);
    expect(parseCsv('a\n"say ""hi"""\n')).toEqual([{ a: 'say "hi"' }]);
    expect(parseJsonl('{"condition":"a","score":0.5}\n\n{"condition":"b","score":0.6}\n')).toEqual([
      { condition: "a", score: 0.5 },
      { condition: "b", score: 0.6 },
    ]);
  });

  it("names malformed files", () => {
    expect(() => parseCsv("", "runs.csv")).toThrow(
      "parseCsv: runs.csv: expected a header row, got an empty file",
    );
    expect(() => parseCsv("a,b\n1\n", "runs.csv")).toThrow(
      "parseCsv: runs.csv line 2: expected 2 fields like the header, got 1",
    );
    expect(() => parseJsonl("{nope\n", "runs.jsonl")).toThrow(
      'parseJsonl: runs.jsonl line 1: expected a JSON object, got "{nope"',
    );
    expect(() => parseJsonl("[1]\n", "runs.jsonl")).toThrow(
      "parseJsonl: runs.jsonl line 1: expected a JSON object, got [1]",
    );
  });

  it("numbers lines as they are in the file, blank lines included", () => {
    expect(() => parseCsv("\na,b\n1,2\n\n  \n3\n", "runs.csv")).toThrow(
      "parseCsv: runs.csv line 6: expected 2 fields like the header, got 1",
    );
    expect(() => parseJsonl('{"a":1}\n\n\n{nope\n', "runs.jsonl")).toThrow(
      'parseJsonl: runs.jsonl line 4: expected a JSON object, got "{nope"',
    );
    expect(readCsv("\na,b\n1,2\n\n3,4\n", "runs.csv").lines).toEqual([3, 5]);
    expect(readJsonl('\n{"a":1}\r\n\r\n{"a":2}\n', "runs.jsonl")).toEqual({
      runs: [{ a: 1 }, { a: 2 }],
      lines: [2, 4],
    });
  });
});

describe("compareConditions", () => {
  const runs = parseCsv(CSV);

  it("runs ASO per language with Bonferroni over the languages", () => {
    const table = compareConditions(runs, { metric: "f1" });
    expect(table.languages).toEqual(["de", "hu"]);
    expect(table.conditions).toEqual(["baseline", "dlr"]);
    expect(table.cells["de"]!["dlr"]!.mean).toBeCloseTo(0.8135, 12);
    const de = aso([0.815, 0.812, 0.818, 0.809], [0.801, 0.795, 0.806, 0.799], { numComparisons: 2 });
    expect(table.comparisons[0]).toEqual({
      language: "de",
      condition: "dlr",
      baseline: "baseline",
      value: de.epsilonMin,
      significant: de.epsilonMin < 0.5,
    });
    expect(table.comparisons[0]!.significant).toBe(true);
  });

  it("adjusts p-values of paired tests over the languages", () => {
    const table = compareConditions(runs, { metric: "f1", test: "paired-t", correction: "holm" });
    const de = pairedTTest([0.815, 0.812, 0.818, 0.809], [0.801, 0.795, 0.806, 0.799]).pValue;
    const hu = pairedTTest([0.704, 0.709, 0.703, 0.708], [0.702, 0.711, 0.705, 0.699]).pValue;
    const adjusted = adjustPValues([de, hu], "holm");
    expect(table.comparisons.map((entry) => entry.value)).toEqual(adjusted);
    expect(table.comparisons.map((entry) => entry.rawPValue)).toEqual([de, hu]);
  });

  it("reads scores only from finite numbers and decimal number strings", () => {
    const f1 = (value: string | number | boolean | null) =>
      compareConditions(
        runs.map((run, i) => (i === 0 ? { ...run, f1: value } : run)),
        { metric: "f1", test: "welch" },
      ).cells["de"]!["baseline"]!.mean;
    const rest = 0.795 + 0.806 + 0.799;
    expect(f1("0.801")).toBeCloseTo((0.801 + rest) / 4, 15);
    expect(f1(" .5 ")).toBeCloseTo((0.5 + rest) / 4, 15);
    expect(f1("8.01e-1")).toBeCloseTo((0.801 + rest) / 4, 15);
    expect(f1(-1)).toBeCloseTo((-1 + rest) / 4, 15);
    for (const [value, got] of [
      ["", '""'],
      [" ", '" "'],
      [true, "true"],
      ["0x1", '"0x1"'],
      ["1e999", '"1e999"'],
      ["Infinity", '"Infinity"'],
      ["1,5", '"1,5"'],
      [Number.NaN, "NaN"],
    ] as const) {
      expect(() => f1(value)).toThrow(
        `compareConditions: runs[0].f1: expected a finite number or a decimal number string, got ${got}`,
      );
    }
  });

  it("checks options.seed itself, for every test", () => {
    expect(() => compareConditions(runs, { metric: "f1", seed: -1 })).toThrow(
      "compareConditions: options.seed: expected an integer in 0..4294966295, got -1",
    );
    expect(() => compareConditions(runs, { metric: "f1", test: "welch", seed: 1.5 })).toThrow(
      "compareConditions: options.seed: expected an integer in 0..4294967295, got 1.5",
    );
    expect(() => compareConditions(runs, { metric: "f1", seed: 2 ** 32 - 1000 })).toThrow(
      "compareConditions: options.seed: expected an integer in 0..4294966295, got 4294966296",
    );
    expect(() => compareConditions(runs, { metric: "f1", test: "permutation", seed: 2 ** 32 })).toThrow(
      "compareConditions: options.seed: expected an integer in 0..4294967295, got 4294967296",
    );
    const table = compareConditions(runs, { metric: "f1", seed: 2 ** 32 - 1001 });
    expect(table.comparisons[0]!.value).toBe(
      aso([0.815, 0.812, 0.818, 0.809], [0.801, 0.795, 0.806, 0.799], {
        numComparisons: 2,
        seed: 2 ** 32 - 1001,
      }).epsilonMin,
    );
  });

  it("says what is wrong with the runs", () => {
    expect(() =>
      compareConditions(
        runs.map((run, i) => (i === 0 ? { ...run, f1: null } : run)),
        { metric: "f1" },
      ),
    ).toThrow('compareConditions: runs[0]: expected a "f1" column, got none');
    expect(() => compareConditions(runs)).toThrow(
      'compareConditions: runs[0]: expected a "score" column, got none',
    );
    expect(() => compareConditions(runs.slice(0, 5), { metric: "f1" })).toThrow(
      "compareConditions: runs for dlr in de: expected at least 2 runs (seeds), got 1",
    );
    const unpaired = runs.map((run, i) => (i === 4 ? { ...run, seed: "9" } : run));
    expect(() => compareConditions(unpaired, { metric: "f1", test: "wilcoxon" })).toThrow(
      "compareConditions: seed 9 of dlr in de: expected a run with the same seed in the baseline, got none",
    );
    const repeated = runs.map((run, i) => (i === 5 ? { ...run, seed: "1" } : run));
    expect(() => compareConditions(repeated, { metric: "f1", test: "paired-t" })).toThrow(
      "compareConditions: runs[5].seed: expected one run per seed for dlr in de, got seed 1 again",
    );
    expect(() => compareConditions([{ ...runs[0]!, f1: "n/a" }, ...runs], { metric: "f1" })).toThrow(
      'compareConditions: runs[0].f1: expected a finite number or a decimal number string, got "n/a"',
    );
    expect(() => compareConditions(runs, { metric: "f1", baseline: "bert" })).toThrow(
      'compareConditions: options.baseline: expected one of baseline, dlr, got "bert"',
    );
    expect(() => compareConditions([], { metric: "f1" })).toThrow(
      "compareConditions: runs: expected at least one run, got none",
    );
    expect(() => compareConditions(runs.slice(0, 8).concat(runs.slice(8, 12)), { metric: "f1" })).toThrow(
      "compareConditions: runs in hu: expected runs of both dlr and baseline, got only one of them",
    );
    expect(() => compareConditions(runs.slice(0, 7), { metric: "f1", test: "paired-t" })).toThrow(
      "compareConditions: seeds in de: expected the same 3 seeds for dlr and the baseline, got 4 baseline runs",
    );
  });
});

describe("toMarkdown / toLatex", () => {
  const table = compareConditions(parseCsv(CSV), { metric: "f1", test: "paired-t" });

  it("renders mean ± std per condition and language, the test value and significance marks", () => {
    const markdown = toMarkdown(table, { digits: 1, scale: 100 });
    const lines = markdown.split("\n");
    expect(lines[0]).toBe("| Language | baseline | dlr |");
    expect(lines[1]).toBe("| --- | ---: | ---: |");
    expect(lines[2]).toMatch(/^\| de \| 80\.0 ± 0\.5 \| 81\.3 ± 0\.4\* \(p = 0\.0\d\d\) \|$/);
    expect(lines[3]).toMatch(/^\| hu \| 70\.4 ± 0\.5 \| 70\.6 ± 0\.3 \(p = 1\.000\) \|$/);
    expect(markdown).toContain(
      "paired t-test vs baseline; p-values bonferroni-adjusted over 2 languages; * marks p < 0.05.",
    );
  });

  it("names a bad digits or scale instead of letting toFixed throw a RangeError", () => {
    expect(toMarkdown(table, { digits: 0, scale: 100 }).split("\n")[2]).toMatch(
      /^\| de \| 80 ± 0 \| 81 ± 0\* /,
    );
    expect(toMarkdown(table, { digits: 20 })).toContain("| de | 0.80025000000000001688 ± ");
    for (const [digits, got] of [
      [-1, "-1"],
      [21, "21"],
      [101, "101"],
      [1.5, "1.5"],
      [Number.NaN, "NaN"],
    ] as const) {
      expect(() => toMarkdown(table, { digits })).toThrow(
        `toMarkdown: options.digits: expected an integer in 0..20, got ${got}`,
      );
      expect(() => toLatex(table, { digits })).toThrow(
        `toLatex: options.digits: expected an integer in 0..20, got ${got}`,
      );
    }
    for (const [scale, got] of [
      [0, "0"],
      [-100, "-100"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [Number.NaN, "NaN"],
    ] as const) {
      expect(() => toMarkdown(table, { scale })).toThrow(
        `toMarkdown: options.scale: expected a finite number > 0, got ${got}`,
      );
      expect(() => toLatex(table, { scale })).toThrow(
        `toLatex: options.scale: expected a finite number > 0, got ${got}`,
      );
    }
  });

  it("renders booktabs LaTeX with escaped names", () => {
    const latex = toLatex(
      compareConditions(parseCsv(CSV.replace(/dlr/g, "dlr_0.7")), { metric: "f1", test: "paired-t" }),
      { digits: 1, scale: 100, label: "tab:ner" },
    );
    expect(latex).toContain(
      "\\begin{tabular}{lrr}\n\\toprule\nLanguage & baseline & dlr\\_0.7 \\\\\n\\midrule",
    );
    expect(latex).toMatch(/de & \$80\.0 \\pm 0\.5\$ & \$81\.3 \\pm 0\.4\^\{\*\} \\;\(p = 0\.0\d\d\)\$ \\\\/);
    expect(latex).toContain("\\bottomrule\n\\end{tabular}");
    expect(latex).toContain("\\label{tab:ner}");
    const asoLatex = toLatex(compareConditions(parseCsv(CSV), { metric: "f1" }));
    expect(asoLatex).toContain(
      "$\\varepsilon_{\\min}$ of condition vs baseline; * marks $\\varepsilon_{\\min}$ $<$ 0.5",
    );
  });
});
