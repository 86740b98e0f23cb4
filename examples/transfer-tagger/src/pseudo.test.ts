import { PseudoLabelSelector } from "@xlt/data";
import { SequenceTagger } from "@xlt/heads";
import { describe, expect, it } from "vitest";
import { labelCandidates, meanTokenEntropy, PseudoLabelRounds } from "./pseudo.js";

const candidate = (words: string, tags: string, confidence: number, entropy: number) => ({
  words: words.split(" "),
  tags: tags.split(" "),
  confidence,
  entropy,
});

describe("pseudo-label rounds", () => {
  it("mean token entropy in nats (hand computed)", () => {
    // Two sentences of up to 2 steps, 2 tags; sentence 1 has one real step.
    const marginals = [0.5, 0.5, 0.9, 0.1, 1, 0, 0.3, 0.7];
    const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    expect(meanTokenEntropy(marginals, [2, 2, 2], 0, 2)).toBeCloseTo((Math.log(2) + h(0.9)) / 2, 14);
    expect(meanTokenEntropy(marginals, [2, 2, 2], 1, 1)).toBe(0);
  });

  it("adds sentences at or above the confidence quantile and under the entropy threshold, after the delay, for good", () => {
    const rounds = new PseudoLabelRounds({ rounds: 3, quantile: 0.5, maxEntropy: 0.4, delay: 1 });
    const pool = ["a b", "c d", "e f", "g h"].map((words) => ({ words: words.split(" ") }));
    const first = [
      candidate("a b", "B-PER O", 0.9, 0.1),
      candidate("c d", "O O", 0.8, 0.1),
      candidate("e f", "B-LOC O", 0.7, 0.5),
      candidate("g h", "B-ORG O", 0.1, 0.1),
    ];
    // Round 0 is before the delay: nothing is added, everything stays to be labelled again.
    expect(rounds.select(0, first)).toEqual([]);
    expect(rounds.remaining(pool)).toEqual(pool);
    // Round 1: "c d" is all O and out; the median confidence of the others is 0.7; "e f" is too
    // uncertain, "g h" below the quantile.
    expect(rounds.select(1, first)).toEqual([first[0]]);
    expect(rounds.remaining(pool).map((s) => s.words.join(" "))).toEqual(["c d", "e f", "g h"]);
    // Round 2 sees the rest, relabelled; its own quantile (0.6 of 0.2, 0.6, 0.95 → median 0.6).
    const second = [
      candidate("c d", "B-PER O", 0.6, 0.2),
      candidate("e f", "B-LOC O", 0.95, 0.3),
      candidate("g h", "B-ORG O", 0.2, 0.1),
    ];
    expect(rounds.select(2, second)).toEqual([second[0], second[1]]);
    const gold = [{ words: ["x"], tags: ["O"] }];
    expect(rounds.trainingSet(gold)).toEqual([
      gold[0],
      { words: ["a", "b"], tags: ["B-PER", "O"] },
      { words: ["c", "d"], tags: ["B-PER", "O"] },
      { words: ["e", "f"], tags: ["B-LOC", "O"] },
    ]);
    expect(rounds.selector.rounds.map((r) => r.added)).toEqual([0, 1, 2]);
    expect(rounds.selector).toBeInstanceOf(PseudoLabelSelector);
  });

  it("labels with the CRF: path probability and mean marginal entropy equal brute-force enumeration", {
    timeout: 60_000,
  }, async () => {
    const train = [
      { words: ["Anna", "lives", "in", "Valletta"], tags: ["B-PER", "O", "O", "B-LOC"] },
      { words: ["Anna", "Borg", "left"], tags: ["B-PER", "I-PER", "O"] },
    ];
    const tagger = SequenceTagger.create(train, {
      scheme: "BIO",
      charEncoder: "none",
      wordDim: 3,
      hidden: 3,
    });
    const session = await tagger.compile({
      learningRates: { embeddings: 0.1, lstm: 0.1, emission: 0.1, crf: 0.1 },
      seed: 4,
    });
    for (let step = 0; step < 3; step += 1) await session.trainStep(tagger.encode(train));
    const sentences = [{ words: ["Borg", "in", "Anna"] }, { words: ["Valletta", "left"] }];
    const candidates = await labelCandidates(tagger, session, sentences);
    const { tensors } = await session.snapshot();
    const scores = (await session.evalStep(tagger.encode(sentences))).scores;
    const labels = tagger.config.labels;
    const K = labels.length;
    const T = 3;
    const read = (name: string) => Array.from(tensors.get(`head.crf.${name}`) ?? [], Number);
    const [transitions, start, end] = [read("transitions"), read("start"), read("end")];
    const emission = Array.from(scores?.data ?? [], Number);
    const allowed = (from: string | null, to: string) =>
      !to.startsWith("I-") || (from !== null && from !== "O" && from.slice(2) === to.slice(2));
    for (const [b, sentence] of sentences.entries()) {
      const n = sentence.words.length;
      const paths: number[][] = [[]];
      for (let t = 0; t < n; t += 1)
        paths.splice(0, paths.length, ...paths.flatMap((p) => labels.map((_, k) => [...p, k])));
      const valid = paths.filter((p) =>
        p.every((k, t) =>
          allowed(t === 0 ? null : (labels[p[t - 1] as number] as string), labels[k] as string),
        ),
      );
      const score = (p: number[]) =>
        (start[p[0] as number] ?? 0) +
        (end[p[n - 1] as number] ?? 0) +
        p.reduce(
          (s, k, t) =>
            s +
            (emission[(b * T + t) * K + k] ?? 0) +
            (t > 0 ? (transitions[(p[t - 1] as number) * K + k] ?? 0) : 0),
          0,
        );
      const logZ = Math.log(valid.reduce((s, p) => s + Math.exp(score(p)), 0));
      const best = valid.reduce((a, p) => (score(p) > score(a) ? p : a));
      const got = candidates[b];
      expect(got?.tags).toEqual(best.map((k) => labels[k]));
      expect(Math.abs((got?.confidence ?? 0) - Math.exp(score(best) - logZ))).toBeLessThan(1e-9);
      let entropy = 0;
      for (let t = 0; t < n; t += 1)
        for (let k = 0; k < K; k += 1) {
          const p = valid
            .filter((path) => path[t] === k)
            .reduce((s, path) => s + Math.exp(score(path) - logZ), 0);
          if (p > 0) entropy -= p * Math.log(p);
        }
      expect(Math.abs((got?.entropy ?? 0) - entropy / n)).toBeLessThan(1e-9);
    }
    await session.release();
  });
});
