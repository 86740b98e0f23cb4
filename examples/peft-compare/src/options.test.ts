import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { METHODS, parseMethods } from "./methods.js";
import { FULL, parseOptions, SHORT, USAGE, wantsHelp } from "./options.js";

describe("parseOptions", () => {
  it("defaults to the short configuration, --full to more seeds and epochs", () => {
    const short = parseOptions([], "/tmp/out");
    expect(short).toEqual({ ...SHORT, out: "/tmp/out", checkpoint: null, threads: undefined, full: false });
    expect(short.methods).toEqual(METHODS);
    const full = parseOptions(["--full"], "/tmp/out");
    expect(full).toMatchObject({
      seeds: 5,
      pretrainSteps: FULL.pretrainSteps,
      lmEpochs: 3,
      tagEpochs: 8,
      full: true,
    });
  });

  it("reads every flag", () => {
    const options = parseOptions(
      [
        "--seeds",
        "3",
        "--methods",
        "lora,full, bitfit,lora",
        "--pretrain-steps",
        "20",
        "--lm-epochs",
        "2",
        "--tag-epochs",
        "4",
        "--train-sentences",
        "100",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--out",
        "x/y",
        "--checkpoint",
        "ckpt",
      ],
      "/tmp/out",
    );
    expect(options).toEqual({
      seeds: 3,
      methods: ["full", "lora", "bitfit"],
      pretrainSteps: 20,
      lmEpochs: 2,
      tagEpochs: 4,
      trainSentences: 100,
      batchSize: 8,
      maxTokens: 56,
      out: resolve("x/y"),
      checkpoint: resolve("ckpt"),
      threads: 1,
      full: false,
    });
    expect(wantsHelp(["--seeds", "2", "--help"])).toBe(true);
    expect(wantsHelp(["-h"])).toBe(true);
    expect(wantsHelp(["--seeds", "2"])).toBe(false);
    expect(USAGE).toContain("--methods LIST");
  });

  it("names the flag and the value of every bad command line", () => {
    const cases: [string[], string][] = [
      [
        ["--seed", "2"],
        "parseOptions: argv: expected known flags with values (see --help), got Unknown option '--seed'",
      ],
      [
        ["--seeds"],
        "parseOptions: argv: expected known flags with values (see --help), got Option '--seeds <value>' argument missing",
      ],
      [["extra"], 'parseOptions: argv: expected flags only, got "extra"'],
      [["--seeds", "0"], 'parseOptions: --seeds: expected an integer >= 1, got "0"'],
      [["--seeds", "1.5"], 'parseOptions: --seeds: expected an integer >= 1, got "1.5"'],
      [["--pretrain-steps", "x"], 'parseOptions: --pretrain-steps: expected an integer >= 1, got "x"'],
      [["--lm-epochs=-1"], 'parseOptions: --lm-epochs: expected an integer >= 1, got "-1"'],
      [["--tag-epochs", ""], 'parseOptions: --tag-epochs: expected an integer >= 1, got ""'],
      [
        ["--train-sentences", "1021"],
        'parseOptions: --train-sentences: expected an integer in [1, 1020], got "1021"',
      ],
      [["--batch-size", "0"], 'parseOptions: --batch-size: expected an integer >= 1, got "0"'],
      [["--threads", "two"], 'parseOptions: --threads: expected an integer >= 1, got "two"'],
      [["--out", " "], 'parseOptions: --out: expected a directory, got ""'],
      [["--checkpoint", ""], 'parseOptions: --checkpoint: expected a directory, got ""'],
      [
        ["--methods", "lora,dora"],
        `parseMethods: --methods: expected methods among ${METHODS.join(", ")}, got "dora"`,
      ],
      [
        ["--methods", "lora,bitfit"],
        'parseMethods: --methods: expected a list that includes full (the baseline), got "lora,bitfit"',
      ],
    ];
    for (const [argv, message] of cases)
      expect(() => parseOptions(argv, "/tmp/out"), argv.join(" ")).toThrow(message);
  });
});

describe("parseMethods", () => {
  it("keeps the methods' own order and drops repeats", () => {
    expect(parseMethods("embedding,full,qlora,full")).toEqual(["full", "qlora", "embedding"]);
    expect(parseMethods(METHODS.join(","))).toEqual(METHODS);
  });
});
