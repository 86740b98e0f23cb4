import { describe, expect, it } from "vitest";
import { loadCompareData, loadPretrainingText } from "./data.js";

describe("loadCompareData and loadPretrainingText", () => {
  it("splits the Faroese data with no held-out or test sentence in the adaptation or pretraining text", async () => {
    const [data, pretraining] = await Promise.all([loadCompareData(300), loadPretrainingText()]);
    expect(data.lmTrain).toHaveLength(1020 + 210);
    expect(data.lmHeldOut).toHaveLength(300 + 52);
    expect(data.tagTrain).toHaveLength(300);
    expect(data.tagTest).toHaveLength(301);
    expect(data.tags).toContain("NOUN");
    expect([...pretraining.keys()]).toEqual(["da", "sv", "is"]);
    const seen = new Set(
      [...data.lmTrain, ...[...pretraining.values()].flat()].map((words) => words.join(" ")),
    );
    const leaked = [...data.lmHeldOut, ...data.tagTest.map((sentence) => sentence.words)].filter(
      (words) => words.length > 4 && seen.has(words.join(" ")),
    );
    expect(leaked).toEqual([]);
  });

  it("takes between 1 and 1020 tagging sentences", async () => {
    await expect(loadCompareData(0)).rejects.toThrow(
      "loadCompareData: trainSentences: expected an integer in [1, 1020], got 0",
    );
    await expect(loadCompareData(1021)).rejects.toThrow(
      "loadCompareData: trainSentences: expected an integer in [1, 1020], got 1021",
    );
  });
});
