import { describe, expect, it } from "vitest";
import { TransferError } from "./errors.js";
import { loadSourcePool, loadTargetSplits, runData, sourceSample, tokenizeText } from "./tasks.js";

describe("tasks", () => {
  it("tokenizes raw Tatoeba text into UD-like words", () => {
    expect(tokenizeText("Njejsym twoje prašenje rozumił.")).toEqual([
      "Njejsym",
      "twoje",
      "prašenje",
      "rozumił",
      ".",
    ]);
    expect(tokenizeText("Tom's car, 3.5 km-long!")).toEqual(["Tom's", "car", ",", "3.5", "km-long", "!"]);
  });

  it("re-splits Upper Sorbian 80/10/10 once; each seed samples its labelled sentences and the rest is unlabelled", async () => {
    const splits = await loadTargetSplits("hsb");
    expect([splits.trainPool.length, splits.dev.length, splits.test.length]).toEqual([515, 65, 64]);
    expect(splits.extraText).toHaveLength(483);
    const again = await loadTargetSplits("hsb");
    expect(again.test.map((s) => s.words.join(" "))).toEqual(splits.test.map((s) => s.words.join(" ")));
    const one = runData(splits, 1, 240, 0);
    const two = runData(splits, 2, 240, 0);
    expect(one.labelled).toHaveLength(240);
    expect(one.unlabelled).toHaveLength(515 - 240 + 483);
    expect(one.labelled.map((s) => s.words.join(" "))).not.toEqual(
      two.labelled.map((s) => s.words.join(" ")),
    );
    // Labelled + unlabelled are exactly the pool + the Tatoeba text (as multisets).
    const joined = (list: readonly { words: readonly string[] }[]) =>
      list.map((s) => s.words.join(" ")).sort();
    expect(joined([...one.labelled, ...one.unlabelled])).toEqual(
      joined([...splits.trainPool, ...splits.extraText]),
    );
    expect(runData(splits, 1, 240, 100).unlabelled).toHaveLength(100);
    expect(() => runData(splits, 1, 600, 0)).toThrow(
      new TransferError("runData", "labelled", "at most the 515 sentences of the train pool", "600"),
    );
  });

  it("Faroese keeps its own splits; source samples are nested across k", async () => {
    const splits = await loadTargetSplits("fo");
    expect([splits.trainPool.length, splits.dev.length, splits.test.length]).toEqual([1020, 300, 301]);
    const pool = await loadSourcePool("fo", "is+da");
    expect(pool.sentences).toHaveLength(394 + 564);
    const small = sourceSample(pool, 240, 3);
    const large = sourceSample(pool, 480, 3);
    expect(large.slice(0, 240)).toEqual(small);
    expect(() => sourceSample(pool, 960, 3)).toThrow(
      "sourceSample: size: expected at most the 958 sentences of is+da, got 960",
    );
    await expect(loadSourcePool("fo", "cs")).rejects.toThrow(
      'loadSourcePool: source: expected sources of fo from is, da, got "cs"',
    );
  });
});
