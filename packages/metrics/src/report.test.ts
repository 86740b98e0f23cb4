import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getEntities } from "./entities.js";
import { classificationReport, entityCounts, f1Score, precisionScore, recallScore } from "./report.js";
import { sentenceStatistics } from "./sentence-statistics.js";

const TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "O", "O"];
const corpus = fc.array(fc.array(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 12 }), {
  minLength: 1,
  maxLength: 6,
});
/** Two corpora of the same shape. */
const pair = corpus.chain((yTrue) =>
  fc.tuple(
    fc.constant(yTrue),
    fc.tuple(
      ...yTrue.map((sentence) =>
        fc.array(fc.constantFrom(...TAGS), { minLength: sentence.length, maxLength: sentence.length }),
      ),
    ),
  ),
);

const TYPES = ["PER", "LOC"];

/**
 * conlleval's lenient IOB2 chunks of one sentence, found by trying every type and every span [start, end):
 * a span is a chunk when it opens at `start` (`B-T`, or `I-T` after a tag of another type or `O`), every tag
 * after the first is `I-T`, and the tag after it (or the end of the sentence) does not continue it.
 * Written from that definition alone, without the package's chunker.
 */
function bruteChunks(tags: readonly string[]): string[] {
  const chunks: string[] = [];
  for (const type of TYPES) {
    for (let start = 0; start < tags.length; start++) {
      const previous = start === 0 ? "O" : tags[start - 1]!;
      const opens =
        tags[start] === `B-${type}` ||
        (tags[start] === `I-${type}` && previous !== `B-${type}` && previous !== `I-${type}`);
      if (!opens) continue;
      for (let end = start + 1; end <= tags.length; end++) {
        const inside = tags.slice(start + 1, end).every((tag) => tag === `I-${type}`);
        const closed = end === tags.length || tags[end] !== `I-${type}`;
        if (inside && closed) chunks.push(`${type}:${start}:${end}`);
      }
    }
  }
  return chunks;
}

/** Micro F1 by brute force: chunks per sentence from `bruteChunks`, matched as (type, start, end) triples. */
function bruteF1(yTrue: string[][], yPred: string[][]): number {
  let tp = 0;
  let predicted = 0;
  let gold = 0;
  yTrue.forEach((sentence, s) => {
    const goldKeys = new Set(bruteChunks(sentence));
    const predictedKeys = bruteChunks(yPred[s]!);
    gold += goldKeys.size;
    predicted += predictedKeys.length;
    tp += predictedKeys.filter((key) => goldKeys.has(key)).length;
  });
  const p = predicted === 0 ? 0 : tp / predicted;
  const r = gold === 0 ? 0 : tp / gold;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

describe("entity F1", () => {
  it("scores whole spans: a right start with a wrong end is a miss, not a hit", () => {
    const yTrue = [["B-PER", "I-PER", "I-PER", "O"]];
    const yPred = [["B-PER", "I-PER", "O", "O"]];
    expect(f1Score(yTrue, yPred)).toBe(0);
    expect(entityCounts(yTrue, yPred)).toEqual({
      types: ["PER"],
      truePositives: [0],
      predicted: [1],
      gold: [1],
    });
  });

  it("gives the seqeval README example", () => {
    const yTrue = [
      ["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"],
      ["B-PER", "I-PER", "O"],
    ];
    const yPred = [
      ["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"],
      ["B-PER", "I-PER", "O"],
    ];
    expect(f1Score(yTrue, yPred)).toBe(0.5);
    expect(precisionScore(yTrue, yPred, { average: "macro" })).toBe(0.5);
    expect(recallScore(yTrue, yPred, { average: "weighted" })).toBe(0.5);
    expect(classificationReport(yTrue, yPred)["MISC"]).toEqual({
      precision: 0,
      recall: 0,
      f1: 0,
      support: 1,
    });
  });

  it("is 1 for a perfect prediction with at least one entity", () => {
    fc.assert(
      fc.property(corpus, (yTrue) => {
        fc.pre(yTrue.some((sentence) => getEntities(sentence).length > 0));
        expect(f1Score(yTrue, yTrue)).toBe(1);
        const strict = { mode: "strict", scheme: "IOB2" } as const;
        if (yTrue.some((sentence) => getEntities(sentence, strict).length > 0)) {
          expect(f1Score(yTrue, yTrue, strict)).toBe(1);
        }
      }),
    );
  });

  it("swapping gold and prediction swaps precision and recall and keeps F1", () => {
    fc.assert(
      fc.property(pair, ([yTrue, yPred]) => {
        expect(precisionScore(yTrue, yPred)).toBe(recallScore(yPred, yTrue));
        expect(f1Score(yTrue, yPred)).toBeCloseTo(f1Score(yPred, yTrue), 14);
      }),
    );
  });

  it("brute-force span enumeration finds conlleval's chunks", () => {
    expect(bruteChunks(["B-PER", "I-PER", "I-LOC", "I-LOC", "O", "I-PER", "B-PER", "B-LOC"])).toEqual([
      "PER:0:2",
      "PER:5:6",
      "PER:6:7",
      "LOC:2:4",
      "LOC:7:8",
    ]);
  });

  it("equals brute-force span enumeration", () => {
    fc.assert(
      fc.property(pair, ([yTrue, yPred]) => {
        expect(f1Score(yTrue, yPred)).toBeCloseTo(bruteF1(yTrue, yPred), 14);
        const gold = yTrue.flatMap((sentence, s) => bruteChunks(sentence).map((key) => `${s}:${key}`));
        const entities = yTrue.flatMap((sentence, s) =>
          getEntities(sentence).map((e) => `${s}:${e.type}:${e.start}:${e.end}`),
        );
        expect(entities.sort()).toEqual(gold.sort());
      }),
    );
  });

  it("detects the scheme in strict mode without one, where seqeval's f1_score scores leniently", () => {
    const yTrue = [["B-PER", "I-PER", "O"]];
    const yPred = [["I-PER", "I-PER", "O"]];
    // By seqeval 1.2.2's source: f1_score(yTrue, yPred, mode="strict") == f1_score(yTrue, yPred) == 1.0 (no scheme: lenient),
    // f1_score(yTrue, yPred, mode="strict", scheme=IOB2) == 0.0; classification_report(mode="strict") detects IOB2.
    expect(f1Score(yTrue, yPred)).toBe(1);
    expect(f1Score(yTrue, yPred, { mode: "strict", scheme: "IOB2" })).toBe(0);
    expect(f1Score(yTrue, yPred, { mode: "strict" })).toBe(0);
    expect(precisionScore(yTrue, yPred, { mode: "strict" })).toBe(0);
    expect(recallScore(yTrue, yPred, { mode: "strict" })).toBe(0);
    expect(classificationReport(yTrue, yPred, { mode: "strict" })["micro avg"]!.f1).toBe(0);
  });

  it("honours zeroDivision and the chosen averages", () => {
    const report = classificationReport([["O"]], [["B-PER"]], { zeroDivision: 1, average: ["micro"] });
    expect(report).toEqual({
      PER: { precision: 0, recall: 1, f1: 0, support: 0 },
      "micro avg": { precision: 0, recall: 1, f1: 0, support: 0 },
    });
    expect(classificationReport([["O"]], [["O"]], { zeroDivision: 1 })["weighted avg"]).toEqual({
      precision: 1,
      recall: 1,
      f1: 1,
      support: 0,
    });
  });
});

describe("report validation", () => {
  it("names the argument that is wrong", () => {
    expect(() => f1Score([["O"]], [["O"], ["O"]])).toThrow(
      "f1Score: yPred: expected 1 sentences like yTrue, got 2",
    );
    expect(() => f1Score([["O", "O"]], [["O"]])).toThrow(
      "f1Score: yPred[0]: expected 2 tags like yTrue[0], got 1",
    );
    expect(() => f1Score(JSON.parse('"O"'), [])).toThrow(
      "f1Score: yTrue: expected an array of sentences (arrays of tags), got string",
    );
    // @ts-expect-error: an invalid zeroDivision on purpose
    expect(() => classificationReport([["O"]], [["O"]], { zeroDivision: "warn" })).toThrow(
      'classificationReport: options.zeroDivision: expected 0 or 1, got "warn"',
    );
    // @ts-expect-error: an invalid average on purpose
    expect(() => f1Score([["O"]], [["O"]], { average: "samples" })).toThrow(
      'f1Score: options.average: expected "micro", "macro" or "weighted", got "samples"',
    );
    // @ts-expect-error: an invalid average on purpose
    expect(() => classificationReport([["O"]], [["O"]], { average: ["none"] })).toThrow(
      'classificationReport: options.average[0]: expected "micro", "macro" or "weighted", got "none"',
    );
  });

  it("names the public function and yTrue when strict mode cannot detect the scheme", () => {
    const iob1 = [["I-PER", "O"]];
    const detection =
      "yTrue: expected tag prefixes of IOB2, IOE2, IOBES or BILOU (pass `scheme` for IOB1/IOE1), got prefixes {I, O}";
    expect(() => f1Score(iob1, iob1, { mode: "strict" })).toThrow(`f1Score: ${detection}`);
    expect(() => precisionScore(iob1, iob1, { mode: "strict" })).toThrow(`precisionScore: ${detection}`);
    expect(() => recallScore(iob1, iob1, { mode: "strict" })).toThrow(`recallScore: ${detection}`);
    expect(() => classificationReport(iob1, iob1, { mode: "strict" })).toThrow(
      `classificationReport: ${detection}`,
    );
    expect(() => entityCounts(iob1, iob1, { mode: "strict" })).toThrow(`entityCounts: ${detection}`);
    expect(() => sentenceStatistics(iob1, iob1, { mode: "strict" })).toThrow(
      `sentenceStatistics: ${detection}`,
    );
    expect(() => f1Score([["X-PER"]], [["O"]], { mode: "strict" })).toThrow(
      'f1Score: yTrue: expected a tag whose prefix is one of I, O, B, E, S, U, L, got "X-PER"',
    );
    expect(f1Score(iob1, iob1, { mode: "strict", scheme: "IOB1" })).toBe(1);
  });
});
