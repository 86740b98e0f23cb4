import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { HqlError } from "./errors.js";
import { FULL, parseOptions, SHORT, wantsHelp } from "./options.js";

const parse = (argv: readonly string[]) => parseOptions(argv, "results", "trees.json");

describe("parseOptions", () => {
  it("defaults to the short configuration, --full to the full one", () => {
    const options = parse([]);
    expect(options).toEqual({
      ...SHORT,
      out: resolve("results"),
      trees: resolve("trees.json"),
      threads: undefined,
      full: false,
    });
    const full = parse(["--full"]);
    expect(full.seeds).toBe(10);
    expect(full.shape).toEqual(FULL.shape);
    expect(full.full).toBe(true);
  });

  it("reads every flag", () => {
    const options = parse([
      "--seeds",
      "4",
      "--pretrain-steps",
      "20",
      "--epochs",
      "2",
      "--lr",
      "5e-4",
      "--rank",
      "4",
      "--train-size",
      "100",
      "--test-size",
      "50",
      "--data-seed",
      "0",
      "--batch-size",
      "8",
      "--threads",
      "2",
      "--out",
      "/tmp/hql",
      "--trees",
      "/tmp/trees.json",
    ]);
    expect(options).toMatchObject({
      seeds: 4,
      pretrainSteps: 20,
      epochs: 2,
      lr: 5e-4,
      rank: 4,
      trainSize: 100,
      testSize: 50,
      dataSeed: 0,
      batchSize: 8,
      threads: 2,
      out: "/tmp/hql",
      trees: "/tmp/trees.json",
      full: false,
    });
    // --full sets the defaults; flags still override them.
    expect(parse(["--full", "--seeds", "2"]).seeds).toBe(2);
  });

  it("refuses bad values, unknown flags and stray arguments, naming the flag", () => {
    const cases: [string[], string][] = [
      [["--seeds", "0"], 'parseOptions: --seeds: expected an integer >= 1, got "0"'],
      [["--seeds", "2.5"], 'parseOptions: --seeds: expected an integer >= 1, got "2.5"'],
      [["--pretrain-steps", "x"], 'parseOptions: --pretrain-steps: expected an integer >= 1, got "x"'],
      [["--epochs", "0"], 'parseOptions: --epochs: expected an integer >= 1, got "0"'],
      [["--batch-size", ""], 'parseOptions: --batch-size: expected an integer >= 1, got ""'],
      [["--rank", "0"], 'parseOptions: --rank: expected an integer >= 1, got "0"'],
      [["--train-size", "1e3"], 'parseOptions: --train-size: expected an integer >= 1, got "1e3"'],
      [["--test-size", "0"], 'parseOptions: --test-size: expected an integer >= 1, got "0"'],
      [["--data-seed=-1"], 'parseOptions: --data-seed: expected an integer >= 0, got "-1"'],
      [["--threads", "0"], 'parseOptions: --threads: expected an integer >= 1, got "0"'],
      [["--lr", "0"], 'parseOptions: --lr: expected a number > 0, got "0"'],
      [["--lr", "fast"], 'parseOptions: --lr: expected a number > 0, got "fast"'],
      [["--lr", " "], 'parseOptions: --lr: expected a number > 0, got " "'],
      [["--out", ""], 'parseOptions: --out: expected a path, got ""'],
      [["--trees", " "], 'parseOptions: --trees: expected a path, got " "'],
      [["extra"], 'parseOptions: argv: expected flags only, got "extra"'],
    ];
    for (const [argv, message] of cases) expect(() => parse(argv), argv.join(" ")).toThrowError(message);
    expect(() => parse(["--bogus"])).toThrowError(
      /^parseOptions: argv: expected known flags with values \(see --help\), got .*--bogus/,
    );
    expect(() => parse(["--seeds"])).toThrowError(HqlError);
  });
});

describe("wantsHelp", () => {
  it("answers --help and -h anywhere on the line", () => {
    expect(wantsHelp(["--seeds", "2", "--help"])).toBe(true);
    expect(wantsHelp(["-h"])).toBe(true);
    expect(wantsHelp(["--seeds", "2"])).toBe(false);
  });
});
