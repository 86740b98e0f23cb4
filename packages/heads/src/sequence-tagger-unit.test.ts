import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flatten } from "@xlt/nn";
import { assignGroups } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { HeadsError } from "./errors.js";
import { SequenceTagger } from "./sequence-tagger.js";

const SENTENCES = [
  { words: ["Anna", "lives", "in", "Valletta"], tags: ["B-PER", "O", "O", "B-LOC"] },
  { words: ["Anna", "Borg", "left"], tags: ["B-PER", "I-PER", "O"] },
  { words: ["San", "Ġwann", "is", "near"], tags: ["B-LOC", "I-LOC", "O", "O"] },
];
const RATES = { embeddings: 0.05, lstm: 0.05, emission: 0.05, crf: 0.05 };

describe("SequenceTagger parameter groups", () => {
  it("puts every trainable parameter in exactly one group, the emission layer included", () => {
    for (const head of ["crf", "softmax"] as const) {
      const tagger = SequenceTagger.create(SENTENCES, {
        head,
        wordDim: 4,
        charHidden: 4,
        hidden: 4,
        layers: 2,
        layerMix: "token",
      });
      const assigned = assignGroups(flatten(tagger.parameters), tagger.groups(RATES));
      expect(assigned.size).toBe(flatten(tagger.parameters).length);
      expect(assigned.get("head.emission.weight")?.name).toBe("emission");
      expect(assigned.get("encoder.charCnn.weight")?.name).toBe("embeddings");
      expect(assigned.get("lstm.l0.backward.weight_hh")?.name).toBe("lstm");
      expect(assigned.get("mix.vector")?.name).toBe("lstm");
      if (head === "crf") expect(assigned.get("head.crf.transitions")?.name).toBe("crf");
    }
  });

  it("trains the emission layer and the CRF; a group with learning rate 0 stays put", {
    timeout: 30_000,
  }, async () => {
    const tagger = SequenceTagger.create(SENTENCES, {
      scheme: "BIO",
      wordDim: 4,
      charEncoder: "bilstm",
      charHidden: 3,
      hidden: 4,
      layers: 2,
      dropout: 0.1,
      layerMix: "scalar",
    });
    const session = await tagger.compile({ learningRates: { ...RATES, lstm: 0 }, clipNorm: 5 });
    const before = new Map([...session.parameters].map(([path, value]) => [path, Float64Array.from(value)]));
    const losses: number[] = [];
    for (let step = 0; step < 3; step += 1)
      losses.push((await session.trainStep(tagger.encode(SENTENCES))).loss);
    const moved = (path: string) =>
      (session.parameters.get(path) as Float32Array).some(
        (v, i) => Math.fround(before.get(path)?.[i] ?? 0) !== v,
      );
    expect(moved("head.emission.weight")).toBe(true);
    expect(moved("head.emission.bias")).toBe(true);
    expect(moved("head.crf.transitions")).toBe(true);
    expect(moved("encoder.words.weight")).toBe(true);
    expect(moved("lstm.l1.forward.weight_ih")).toBe(false);
    expect(moved("mix.weights")).toBe(false); // in the lstm group
    expect(tagger.parameters.mix).toBeDefined();
    expect(losses[2]).toBeLessThan(losses[0] as number);
    // Decoding keeps BIO: no I-X without a B-X or I-X of the same type before it.
    const { labels, confidences } = await tagger.predict(session, SENTENCES);
    for (const [i, tags] of labels.entries()) {
      expect(tags).toHaveLength(SENTENCES[i]?.words.length as number);
      tags.forEach((tag, t) => {
        if (tag.startsWith("I-")) expect([`B-${tag.slice(2)}`, tag]).toContain(tags[t - 1]);
      });
      for (const p of confidences[i] ?? []) expect(p > 0 && p <= 1 + 1e-9).toBe(true);
    }
  });
});

describe("SequenceTagger layer mix", () => {
  it("trains a token-wise mix of the BiLSTM layers", { timeout: 30_000 }, async () => {
    const tagger = SequenceTagger.create(SENTENCES, {
      head: "softmax",
      wordDim: 4,
      charEncoder: "none",
      hidden: 3,
      layers: 2,
      layerMix: "token",
    });
    const session = await tagger.compile({ learningRates: RATES });
    const before = Float32Array.from(session.parameters.get("mix.vector") as Float32Array);
    const { loss } = await session.trainStep(tagger.encode(SENTENCES));
    expect(Number.isFinite(loss)).toBe(true);
    expect(session.parameters.get("mix.vector")).not.toEqual(before);
  });
});

describe("SequenceTagger errors", () => {
  it("names the argument", () => {
    expect(() => SequenceTagger.create(SENTENCES, { head: "softmax", scheme: "BIO" })).toThrow(
      new HeadsError("SequenceTagger", "options.scheme", "no scheme with a softmax head", "BIO"),
    );
    expect(() => SequenceTagger.create(SENTENCES, { layerMix: "max" as "none" })).toThrow(
      'SequenceTagger: options.layerMix: expected "none", "scalar" or "token", got "max"',
    );
    expect(() => SequenceTagger.create(SENTENCES, { head: "mlp" as "crf" })).toThrow(
      'SequenceTagger: options.head: expected "crf" or "softmax", got "mlp"',
    );
    expect(() => SequenceTagger.create(SENTENCES, { seed: 2 ** 31 })).toThrow(
      "SequenceTagger: options.seed: expected an integer in [0, 2097150], got 2147483648",
    );
    const tagger = SequenceTagger.create(SENTENCES, { wordDim: 4, hidden: 4 });
    expect(() => tagger.encode([])).toThrow(
      "SequenceTagger.encode: sentences: expected at least one sentence, got none",
    );
    expect(() => tagger.encode([{ words: [] }])).toThrow(
      "SequenceTagger.encode: sentences[0]: expected at least one word, got none",
    );
    expect(() => tagger.encode([{ words: ["a"], tags: ["O", "O"] }])).toThrow(
      "SequenceTagger.encode: sentences[0].tags: expected 1 tags, got 2",
    );
    expect(() => tagger.encode([{ words: ["a"], tags: ["B-ORG"] }])).toThrow(
      'SequenceTagger.encode: sentences[0].tags[0]: expected one of B-LOC, B-PER, I-LOC, I-PER, O, got "B-ORG"',
    );
    expect(() => tagger.batches(SENTENCES, 0)).toThrow(
      "SequenceTagger.batches: size: expected a positive integer, got 0",
    );
    const directory = mkdtempSync(join(tmpdir(), "xlt-heads-bad-"));
    writeFileSync(join(directory, "config.json"), JSON.stringify({ options: {}, labels: [], words: null }));
    expect(() => SequenceTagger.load(directory)).toThrow(
      "SequenceTagger.load: config.json words: expected an object or array, got null",
    );
  });

  it("encodes words, characters and tags", () => {
    const tagger = SequenceTagger.create(SENTENCES, { wordDim: 4, hidden: 4 });
    const batch = tagger.encode([SENTENCES[1] as (typeof SENTENCES)[number], { words: ["Anna", "xyz"] }]);
    expect(batch.words?.dims).toEqual([2, 3]);
    expect(Array.from(batch.words?.data as BigInt64Array).map(Number)).toEqual([
      tagger.words.id("Anna"),
      tagger.words.id("Borg"),
      tagger.words.id("left"),
      tagger.words.id("Anna"),
      1,
      0,
    ]);
    expect(Array.from(batch.charRows?.data as BigInt64Array).map(Number)).toEqual([0, 1, 2, 3, 4, 0]);
    expect(batch.chars?.dims).toEqual([5, 4]);
    expect(Array.from(batch.tags?.data as BigInt64Array).map(Number)).toEqual([1, 3, 4, 0, 0, 0]);
    expect(tagger.config.labels).toEqual(["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]);
  });
});
