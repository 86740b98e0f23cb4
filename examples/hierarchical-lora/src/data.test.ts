import { describe, expect, it } from "vitest";
import { LANGUAGES, loadHqlData } from "./data.js";

const options = { trainSize: 160, testSize: 150, textCap: 2000, dataSeed: 1 };

describe("loadHqlData", () => {
  it("samples disjoint training and test sets per language and keeps test sentences out of the pretraining text", async () => {
    const data = await loadHqlData(options);
    expect(data.languages.map((entry) => entry.language)).toEqual([...LANGUAGES]);
    expect([...data.text.keys()]).toEqual([...LANGUAGES]);
    expect(data.tags).toHaveLength(17);
    const key = (words: readonly string[]) => words.join(" ");
    for (const entry of data.languages) {
      expect([entry.language, entry.train.length, entry.test.length]).toEqual([entry.language, 160, 150]);
      const text = data.text.get(entry.language) ?? [];
      expect(text.length).toBeGreaterThan(200);
      expect(text.length).toBeLessThanOrEqual(2000);
      // Treebanks repeat some sentences (headings): each is pooled once, so even those cannot leak.
      const trainKeys = new Set(entry.train.map((sentence) => key(sentence.words)));
      const textKeys = new Set(text.map(key));
      for (const sentence of entry.test) {
        expect(trainKeys.has(key(sentence.words)), `${entry.language} train`).toBe(false);
        expect(textKeys.has(key(sentence.words)), `${entry.language} text`).toBe(false);
      }
      for (const sentence of [...entry.train, ...entry.test])
        expect(sentence.tags).toHaveLength(sentence.words.length);
    }
    expect(data.languages.find((entry) => entry.language === "fo")?.corpus).toBe(
      "ud/fo_farpahc train + ud/fo_farpahc dev + ud/fo_farpahc test",
    );
  });

  it("is the same for the same seed and differs for another", async () => {
    const [a, b, c] = await Promise.all([
      loadHqlData(options),
      loadHqlData(options),
      loadHqlData({ ...options, dataSeed: 2 }),
    ]);
    expect(b.languages[0]?.test).toEqual(a.languages[0]?.test);
    expect(c.languages[0]?.test).not.toEqual(a.languages[0]?.test);
  });

  it("refuses a training set larger than what is left after the test set", async () => {
    // Icelandic has 394 bundled sentences (UD is_modern dev), 390 of them distinct.
    await expect(loadHqlData({ ...options, trainSize: 300 })).rejects.toThrowError(
      "loadHqlData: trainSize: expected at most 240 for is (390 distinct sentences bundled, 150 kept for testing), got 300",
    );
  });
});
