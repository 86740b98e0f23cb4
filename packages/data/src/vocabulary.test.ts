import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadCorpus } from "./registry.js";
import { LabelVocabulary } from "./vocabulary.js";

describe("LabelVocabulary", () => {
  it("gives stable ids whatever order labels come in (fast-check)", () => {
    const labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "S-ORG", "E-ORG", "B-ORG", "I-ORG"];
    const expected = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "E-ORG", "S-ORG", "B-PER", "I-PER"];
    fc.assert(
      fc.property(fc.shuffledSubarray(labels, { minLength: labels.length }), (order) => {
        expect(LabelVocabulary.fromTags([order]).labels).toEqual(expected);
      }),
    );
    expect(LabelVocabulary.forEntityTypes(["PER", "LOC", "ORG"]).labels).toEqual([
      "O",
      "B-LOC",
      "I-LOC",
      "B-ORG",
      "I-ORG",
      "B-PER",
      "I-PER",
    ]);
  });

  it("encodes, decodes, saves and loads", async () => {
    const train = await loadCorpus("uner/da_ddt", "dev");
    const vocab = LabelVocabulary.fromTags(train.map((s) => s.tags));
    expect(vocab.labels).toEqual(["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]);
    const first = train[0]!;
    expect(vocab.decode(vocab.encode(first.tags))).toEqual(first.tags);
    const path = join(await mkdtemp(join(tmpdir(), "xlt-vocab-")), "labels.json");
    await vocab.save(path);
    expect((await LabelVocabulary.load(path)).labels).toEqual(vocab.labels);
    const hsb = (await loadCorpus("ud/hsb_ufal", "test")).map((s) => s.tags);
    const upos = LabelVocabulary.fromTags(hsb);
    expect(upos.labels).toEqual([...new Set(hsb.flat())].sort());
    expect(upos.id("ADJ")).toBe(0);
  });

  it("rejects bad input with typed errors", () => {
    const vocab = new LabelVocabulary(["O", "B-PER"]);
    expect(() => vocab.id("B-LOC")).toThrow(
      'LabelVocabulary.id: label: expected one of O, B-PER, got "B-LOC"',
    );
    expect(() => vocab.label(2)).toThrow("LabelVocabulary.label: id: expected an integer in [0, 2), got 2");
    expect(() => new LabelVocabulary(["O", "O"])).toThrow(
      'LabelVocabulary: labels[1]: expected distinct labels, got "O" twice',
    );
    expect(() => new LabelVocabulary(["O", ""])).toThrow(
      'LabelVocabulary: labels[1]: expected a non-empty string, got ""',
    );
    expect(() => LabelVocabulary.fromJSON(JSON.parse('{"labels":"O"}'))).toThrow(
      'LabelVocabulary.fromJSON: json.labels: expected an array of labels, got "O"',
    );
  });
});
