import { describe, expect, it } from "vitest";
import { HELP, parseCli } from "./cli.js";
import { TransferError } from "./errors.js";

function config(argv: string[]) {
  const result = parseCli(argv);
  if (result.help) throw new Error("expected a configuration");
  return result.config;
}

describe("parseCli", () => {
  it("gives the short configuration without flags", () => {
    const c = config([]);
    expect(c.targets).toEqual(["hsb"]);
    expect(c.sources.hsb).toEqual(["cs+sk"]);
    expect(Object.keys(c.sources)).toEqual(["hsb"]);
    expect(c.seeds).toEqual([1, 2]);
    expect(c.recipes).toEqual(["baseline", "transfer", "pseudo"]);
    expect(c.sweep).toEqual([1, 4]);
    expect(c.labelled).toBe(240);
    expect(c.learningRates).toEqual({ embeddings: 0.01, lstm: 0.01, emission: 0.01, crf: 0.01 });
    expect([c.epochs, c.sourceEpochs, c.batchSize, c.unlabelled]).toEqual([10, 5, 16, 600]);
    expect([c.patience, c.nerEpochs, c.nerPatience]).toEqual([3, 30, 8]);
    expect(c.executionProvider).toBe("cpu");
    expect(c.out).toBe("results");
    expect(c.full).toBe(false);
  });

  it("--full selects every target, five seeds and a larger sweep; flags still override it", () => {
    const c = config(["--full"]);
    expect(c.targets).toEqual(["hsb", "fo", "sv"]);
    expect(c.sources).toEqual({ hsb: ["cs+sk"], fo: ["is+da"], sv: ["da"] });
    expect(c.seeds).toEqual([1, 2, 3, 4, 5]);
    expect(c.sweep).toEqual([1, 2, 4, 8]);
    expect(config(["--full", "--seeds", "7,8", "--targets", "sv"]).seeds).toEqual([7, 8]);
  });

  it("reads every flag", () => {
    const c = config([
      "--targets=fo,sv",
      "--sources",
      "fo=is;da,sv=sk",
      "--recipes",
      "transfer",
      "--sweep",
      "2,1",
      "--lr",
      "0.01",
      "--lr-crf",
      "0.1",
      "--epochs",
      "3",
      "--batch-size",
      "8",
      "--hidden",
      "128",
      "--layers",
      "2",
      "--threads",
      "1",
      "--execution-provider",
      "cuda",
      "--rounds",
      "3",
      "--pl-delay",
      "1",
      "--out",
      "elsewhere",
    ]);
    expect(c.targets).toEqual(["fo", "sv"]);
    expect(c.sources).toEqual({ fo: ["is", "da"], sv: ["sk"] });
    expect(c.recipes).toEqual(["transfer"]);
    expect(c.sweep).toEqual([2, 1]);
    expect(c.learningRates).toEqual({ embeddings: 0.01, lstm: 0.01, emission: 0.01, crf: 0.1 });
    expect([c.epochs, c.batchSize, c.model.hidden, c.model.layers, c.threads]).toEqual([3, 8, 128, 2, 1]);
    expect(c.executionProvider).toBe("cuda");
    expect(c.pseudo).toEqual({ rounds: 3, quantile: 0.5, maxEntropy: 0.5, delay: 1 });
    expect(c.out).toBe("elsewhere");
    expect(parseCli(["--help"])).toEqual({ help: true });
    expect(HELP).toContain("--execution-provider");
  });

  it("names the flag, what it expected and what it got", () => {
    const cases: Array<[string[], string]> = [
      [["--epochs", "0"], 'parseCli: --epochs: expected an integer >= 1, got "0"'],
      [["--epochs", "2.5"], 'parseCli: --epochs: expected an integer >= 1, got "2.5"'],
      [["--ner-epochs", "0"], 'parseCli: --ner-epochs: expected an integer >= 1, got "0"'],
      [
        ["--ner-patience", "-1"],
        "parseCli: --ner-patience: expected a value after the flag (write a value that starts with - as --ner-patience=-1), got a value starting with -",
      ],
      [["--ner-patience=x"], 'parseCli: --ner-patience: expected an integer >= 0, got "x"'],
      [["--layers", "9"], 'parseCli: --layers: expected an integer in [1, 8], got "9"'],
      [["--lr=-1"], 'parseCli: --lr: expected a number in (0, 10], got "-1"'],
      [
        ["--lr", "-1"],
        "parseCli: --lr: expected a value after the flag (write a value that starts with - as --lr=-1), got a value starting with -",
      ],
      [["--lr", "0x10"], 'parseCli: --lr: expected a number in (0, 10], got "0x10"'],
      [["--dropout", "1"], 'parseCli: --dropout: expected a number in [0, 0.9], got "1"'],
      [["--targets", "mt"], 'parseCli: --targets: expected targets from hsb, fo, sv, got "mt"'],
      [
        ["--targets", "hsb,,fo"],
        'parseCli: --targets: expected a comma-separated list without empty items, got "hsb,,fo"',
      ],
      [["--seeds", "1,1"], 'parseCli: --seeds: expected a list without repeats, got "1,1"'],
      [
        ["--recipes", "zero-shot"],
        'parseCli: --recipes: expected recipes from baseline, transfer, pseudo, got "zero-shot"',
      ],
      [
        ["--sources", "hsb=pl"],
        'parseCli: --sources: expected sources of hsb from cs, sk (joined by +), got "pl"',
      ],
      [
        ["--sources", "xx=cs"],
        'parseCli: --sources: expected target=source entries with a target in hsb, fo, sv, got "xx=cs"',
      ],
      [
        ["--execution-provider", "tpu"],
        'parseCli: --execution-provider: expected cpu, cuda or webgpu, got "tpu"',
      ],
      [["--rounds", "2", "--pl-delay", "2"], "parseCli: --pl-delay: expected fewer than --rounds (2), got 2"],
      [["--epoch", "3"], "parseCli: --epoch: expected one of the flags listed by --help, got --epoch"],
      [["--epochs"], "parseCli: --epochs: expected a value after the flag, got none"],
      [["hsb"], 'parseCli: arguments: expected flags only (see --help), got "hsb"'],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCli(argv), argv.join(" ")).toThrow(message);
      expect(() => parseCli(argv)).toThrow(TransferError);
    }
  });
});
