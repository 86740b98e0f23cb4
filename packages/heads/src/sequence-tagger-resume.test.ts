import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Trainer } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { SequenceTagger } from "./sequence-tagger.js";

const SENTENCES = [
  { words: ["Anna", "lives", "in", "Valletta"], tags: ["B-PER", "O", "O", "B-LOC"] },
  { words: ["Anna", "Borg", "left"], tags: ["B-PER", "I-PER", "O"] },
  { words: ["San", "Ġwann", "is", "near"], tags: ["B-LOC", "I-LOC", "O", "O"] },
  { words: ["Borg", "is", "in", "Mdina"], tags: ["B-PER", "O", "O", "B-LOC"] },
];
const OPTIONS = { wordDim: 4, charHidden: 3, hidden: 4, layers: 2, dropout: 0.4, seed: 7 } as const;
const RATES = { embeddings: 0.05, lstm: 0.05, emission: 0.05, crf: 0.05 };
const FROZEN = { embeddings: 0, lstm: 0, emission: 0, crf: 0 };

describe("SequenceTagger dropout resumes exactly", () => {
  it("k steps, a checkpoint and a new session resumed by a second Trainer end bit-identical to N straight steps", {
    timeout: 60_000,
  }, async () => {
    const tagger = SequenceTagger.create(SENTENCES, OPTIONS);
    const train = async (directory: string, epochs: number) => {
      const session = await tagger.compile({ learningRates: RATES, seed: 3 });
      const result = await new Trainer({
        session,
        batches: (_epoch, random) => tagger.batches(SENTENCES, 2, random),
        epochs,
        seed: 5,
        checkpointDir: directory,
      }).run();
      const parameters = new Map(session.parameters);
      await session.release();
      return { result, parameters };
    };
    const straight = await train(mkdtempSync(join(tmpdir(), "xlt-heads-straight-")), 3);
    expect(straight.result.steps).toBe(6);
    const directory = mkdtempSync(join(tmpdir(), "xlt-heads-resume-"));
    const first = await train(directory, 1);
    expect(first.result.steps).toBe(2);
    const resumed = await train(directory, 3);
    expect(resumed.result.resumedFrom).toBe(2);
    expect(resumed.result.steps).toBe(6);
    expect([...resumed.parameters.keys()]).toEqual([...straight.parameters.keys()]);
    for (const [path, value] of straight.parameters)
      expect(resumed.parameters.get(path), path).toEqual(value);
    // The run moved the parameters (so equality is not trivial).
    const initial = await tagger.compile({ learningRates: RATES, seed: 3 });
    const path = "lstm.l1.forward.weight_ih";
    expect(initial.parameters.get(path)).not.toEqual(straight.parameters.get(path));
    await initial.release();
  });
});

describe("SequenceTagger dropout masks", () => {
  it("differ between steps and are the same for the same step in another session", {
    timeout: 60_000,
  }, async () => {
    // Learning rate 0: the parameters stay put, so the training loss changes only with the masks.
    const tagger = SequenceTagger.create(SENTENCES, OPTIONS);
    const batch = tagger.encode(SENTENCES);
    const first = await tagger.compile({ learningRates: FROZEN, seed: 3 });
    const losses: number[] = [];
    for (let step = 0; step < 3; step += 1) losses.push((await first.trainStep(batch)).loss);
    expect(new Set(losses).size).toBe(3);
    const saved = first.snapshot();
    await first.release();
    // A new session at step 2 draws step 3's masks, not its own session's first ones.
    const second = await tagger.compile({ learningRates: FROZEN, seed: 3 });
    second.restore(saved.tensors, 2);
    expect((await second.trainStep(batch)).loss).toBe(losses[2]);
    await second.release();
    const third = await tagger.compile({ learningRates: FROZEN, seed: 3 });
    expect((await third.trainStep(batch)).loss).toBe(losses[0]);
    await third.release();
  });
});
