import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flatten } from "@xlt/nn";
import { assignGroups } from "@xlt/runtime";
import { trainTokenizer } from "@xlt/tokenize";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { SequenceTagger } from "./sequence-tagger.js";

const SENTENCES = [
  { words: ["Anna", "lives", "in", "Valletta"], tags: ["B-PER", "O", "O", "B-LOC"] },
  { words: ["Anna", "Borg", "left", "Vallettas"], tags: ["B-PER", "I-PER", "O", "B-LOC"] },
  { words: ["Annas", "lived", "near", "Borg"], tags: ["B-PER", "O", "O", "B-LOC"] },
];
const RATES = { embeddings: 0.05, lstm: 0.05, emission: 0.05, crf: 0.05 };
const { tokenizer } = trainTokenizer(
  SENTENCES.map((s) => s.words),
  { model: "wordpiece", vocabSize: 60, minFrequency: 1 },
);

describe("SequenceTagger subwords", () => {
  it("feeds each word's pieces (tokenizer ids + 1, 0-padded) with one row per word", () => {
    const tagger = SequenceTagger.create(SENTENCES, { subwords: tokenizer, wordDim: 4, hidden: 4 });
    expect(tagger.config.options.subwordDim).toBe(32);
    expect(Object.keys(tagger.inputs)).toEqual(["words", "chars", "charRows", "pieces", "pieceRows", "tags"]);
    const batch = tagger.encode([{ words: ["Vallettas", "in"] }, { words: ["Borg"] }]);
    const expected = [["Vallettas", "in"], ["Borg"]].flatMap((words) => {
      const { ids, wordIds } = tokenizer.encodeWords(words, { addSpecialTokens: false });
      return words.map((_, w) => ids.filter((_, i) => wordIds[i] === w).map((id) => id + 1));
    });
    const width = Math.max(...expected.map((row) => row.length));
    expect(batch.pieces?.dims).toEqual([3, width]);
    expect(Array.from(batch.pieces?.data ?? [], Number)).toEqual(
      expected.flatMap((row) => [...row, ...Array.from({ length: width - row.length }, () => 0)]),
    );
    expect(Array.from(batch.pieceRows?.data ?? [], Number)).toEqual([0, 1, 2, 0]);
    expect(expected.every((row) => row.length >= 1 && row.every((id) => id >= 1))).toBe(true);
    const assigned = assignGroups(flatten(tagger.parameters), tagger.groups(RATES));
    expect(assigned.get("encoder.subwords.weight")?.name).toBe("embeddings");
    expect(
      flatten(tagger.parameters).find(([path]) => path === "encoder.subwords.weight")?.[1].shape,
    ).toEqual([tokenizer.vocabSize + 1, 32]);
  });

  it("trains the piece embeddings, and save/load keeps the tokenizer and the predictions", {
    timeout: 60_000,
  }, async () => {
    const tagger = SequenceTagger.create(SENTENCES, {
      scheme: "BIO",
      subwords: tokenizer,
      subwordDim: 5,
      charEncoder: "none",
      wordDim: 4,
      hidden: 4,
    });
    const session = await tagger.compile({ learningRates: RATES, seed: 2 });
    const before = Float64Array.from(session.parameters.get("encoder.subwords.weight") ?? []);
    const losses: number[] = [];
    for (let step = 0; step < 4; step += 1)
      losses.push((await session.trainStep(tagger.encode(SENTENCES))).loss);
    const after = session.parameters.get("encoder.subwords.weight") ?? new Float32Array();
    expect(after.some((v, i) => Math.fround(before[i] ?? 0) !== v)).toBe(true);
    expect(losses[3]).toBeLessThan(losses[0] as number);
    const directory = mkdtempSync(join(tmpdir(), "heads-subwords-"));
    await tagger.save(directory, session);
    expect(existsSync(join(directory, "tokenizer.json"))).toBe(true);
    const loaded = SequenceTagger.load(directory);
    expect(loaded.config.options.subwordDim).toBe(5);
    expect(loaded.subwords?.toJSON()).toEqual(tokenizer.toJSON());
    const again = await loaded.compile({ learningRates: RATES });
    const unseen = [{ words: ["Borgs", "lives", "in", "Annas"] }, ...SENTENCES];
    expect(await loaded.predict(again, unseen)).toEqual(await tagger.predict(session, unseen));
    // Saving a tagger without subwords over it removes the stale tokenizer.json.
    const plain = SequenceTagger.create(SENTENCES, { charEncoder: "none", wordDim: 4, hidden: 4 });
    const plainSession = await plain.compile({ learningRates: RATES });
    await plain.save(directory, plainSession);
    expect(existsSync(join(directory, "tokenizer.json"))).toBe(false);
    await Promise.all([session.release(), again.release(), plainSession.release()]);
    rmSync(directory, { recursive: true });
  });

  it("errors name the argument", async () => {
    expect(() => SequenceTagger.create(SENTENCES, { subwordDim: 8 })).toThrow(
      new HeadsError("SequenceTagger", "options.subwordDim", "0 (no subwords tokenizer)", "8"),
    );
    expect(() => SequenceTagger.create(SENTENCES, { subwords: tokenizer, subwordDim: 0 })).toThrow(
      "SequenceTagger: options.subwordDim: expected a positive integer (with subwords), got 0",
    );
    const tagger = SequenceTagger.create(SENTENCES, {
      subwords: tokenizer,
      charEncoder: "none",
      wordDim: 2,
      hidden: 2,
    });
    const session = await tagger.compile({ learningRates: RATES });
    const directory = mkdtempSync(join(tmpdir(), "heads-subwords-"));
    await tagger.save(directory, session);
    rmSync(join(directory, "tokenizer.json"));
    expect(() => SequenceTagger.load(directory)).toThrow(
      "SequenceTagger.load: tokenizer.json: expected the subword tokenizer (config.json has subwordDim 32), got no such file",
    );
    await session.release();
    rmSync(directory, { recursive: true });
  });
});
