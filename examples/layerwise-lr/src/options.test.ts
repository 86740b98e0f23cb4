import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { FULL, parseOptions, SHORT, wantsHelp } from "./options.js";

describe("parseOptions", () => {
  it("defaults to the short configuration and --full to ten seeds", () => {
    const short = parseOptions([], "/tmp/out");
    expect(short).toMatchObject({
      seeds: SHORT.seeds,
      epochs: SHORT.epochs,
      factor: 0.7,
      blocks: 4,
      out: "/tmp/out",
      checkpoint: null,
      full: false,
      head: "softmax",
    });
    expect(short.threads).toBeUndefined();
    const full = parseOptions(["--full"], "/tmp/out");
    expect(full).toMatchObject({ seeds: 10, pretrainSteps: FULL.pretrainSteps, full: true });
  });

  it("reads every flag", () => {
    const options = parseOptions(
      [
        "--seeds",
        "5",
        "--pretrain-steps",
        "20",
        "--epochs",
        "2",
        "--lr",
        "2e-4",
        "--factor",
        "0.5",
        "--blocks",
        "2",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--out",
        "x/y",
        "--checkpoint",
        "ckpt",
        "--head",
        "crf",
      ],
      "/tmp/out",
    );
    expect(options).toMatchObject({
      seeds: 5,
      pretrainSteps: 20,
      epochs: 2,
      lr: 2e-4,
      factor: 0.5,
      blocks: 2,
      batchSize: 8,
      threads: 1,
      head: "crf",
    });
    expect(options.out).toBe(resolve("x/y"));
    expect(options.checkpoint).toBe(resolve("ckpt"));
    expect(wantsHelp(["--help"])).toBe(true);
    expect(wantsHelp(["--seeds", "2"])).toBe(false);
  });

  it("rejects bad values, unknown flags and stray arguments with StudyError", () => {
    const cases: [string[], string][] = [
      [["--seeds", "0"], 'parseOptions: --seeds: expected an integer >= 1, got "0"'],
      [["--seeds", "2.5"], 'parseOptions: --seeds: expected an integer >= 1, got "2.5"'],
      [["--epochs", "many"], 'parseOptions: --epochs: expected an integer >= 1, got "many"'],
      [["--lr=-1"], 'parseOptions: --lr: expected a number > 0, got "-1"'],
      [["--lr", ""], 'parseOptions: --lr: expected a number > 0, got ""'],
      [["--factor", "1.5"], 'parseOptions: --factor: expected a number in (0, 1], got "1.5"'],
      [["--blocks", "9"], "parseOptions: --blocks: expected at most the 4 encoder layers, got 9"],
      [["--checkpoint", " "], 'parseOptions: --checkpoint: expected a directory, got ""'],
      [["--head", "lstm"], 'parseOptions: --head: expected "softmax" or "crf", got "lstm"'],
      [["--head", ""], 'parseOptions: --head: expected "softmax" or "crf", got ""'],
      [["stray"], 'parseOptions: argv: expected flags only, got "stray"'],
    ];
    for (const [argv, message] of cases)
      expect(() => parseOptions(argv, "/tmp/out"), argv.join(" ")).toThrow(message);
    expect(() => parseOptions(["--sedes", "3"], "/tmp/out")).toThrow(
      /^parseOptions: argv: expected known flags with values \(see --help\), got .*--sedes/,
    );
  });
});
