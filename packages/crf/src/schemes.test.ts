import { describe, expect, it } from "vitest";
import { CrfError } from "./errors.js";
import { LinearChainCrf } from "./linear-chain-crf.js";
import { allowedTransitions, type TagScheme } from "./schemes.js";

/**
 * Oracle: a tag sequence is valid in a scheme exactly when some chunking of the sentence encodes to
 * it. We enumerate every chunking of short sentences, encode each with the scheme's definition, and
 * check that `allowedTransitions` accepts exactly those sequences.
 */
interface Chunk {
  type: string;
  start: number;
  end: number; // exclusive
}

function chunkings(n: number, types: string[], withOutside: boolean): Chunk[][] {
  if (n === 0) return [[]];
  const result: Chunk[][] = [];
  // The first token is outside, or starts a chunk of some type and length.
  if (withOutside) {
    for (const rest of chunkings(n - 1, types, withOutside))
      result.push(rest.map((c) => ({ ...c, start: c.start + 1, end: c.end + 1 })));
  }
  for (const type of types) {
    for (let length = 1; length <= n; length++) {
      for (const rest of chunkings(n - length, types, withOutside)) {
        result.push([
          { type, start: 0, end: length },
          ...rest.map((c) => ({ ...c, start: c.start + length, end: c.end + length })),
        ]);
      }
    }
  }
  return result;
}

function encode(scheme: TagScheme, chunks: Chunk[], n: number): string[] {
  const tags = new Array<string>(n).fill("O");
  const tag = (prefix: string, type: string) => (type === "" ? prefix : `${prefix}-${type}`);
  chunks.forEach((chunk, index) => {
    const previous = chunks[index - 1];
    const next = chunks[index + 1];
    const touchesPrevious =
      previous !== undefined && previous.end === chunk.start && previous.type === chunk.type;
    const touchesNext = next !== undefined && next.start === chunk.end && next.type === chunk.type;
    for (let t = chunk.start; t < chunk.end; t++) {
      const first = t === chunk.start;
      const last = t === chunk.end - 1;
      const single = first && last;
      let prefix: string;
      switch (scheme) {
        case "BIO":
        case "IOB2":
          prefix = first ? "B" : "I";
          break;
        case "IOB1":
          prefix = first && touchesPrevious ? "B" : "I";
          break;
        case "IOE2":
          prefix = last ? "E" : "I";
          break;
        case "IOE1":
          prefix = last && touchesNext ? "E" : "I";
          break;
        case "BIOES":
        case "IOBES":
          prefix = single ? "S" : first ? "B" : last ? "E" : "I";
          break;
        case "BILOU":
          prefix = single ? "U" : first ? "B" : last ? "L" : "I";
          break;
        case "BMES":
          prefix = single ? "S" : first ? "B" : last ? "E" : "M";
          break;
      }
      tags[t] = tag(prefix, chunk.type);
    }
  });
  return tags;
}

const LABELS: Record<TagScheme, string[]> = {
  BIO: ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
  IOB2: ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
  IOB1: ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
  IOE1: ["O", "I-PER", "E-PER", "I-LOC", "E-LOC"],
  IOE2: ["O", "I-PER", "E-PER", "I-LOC", "E-LOC"],
  BIOES: ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
  IOBES: ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
  BILOU: ["O", "B-PER", "I-PER", "L-PER", "U-PER", "B-LOC", "I-LOC", "L-LOC", "U-LOC"],
  BMES: ["B", "M", "E", "S"],
};

function sequences(labels: string[], n: number): string[][] {
  let all: string[][] = [[]];
  for (let t = 0; t < n; t++) all = all.flatMap((s) => labels.map((label) => [...s, label]));
  return all;
}

describe("allowedTransitions", () => {
  for (const scheme of Object.keys(LABELS) as TagScheme[]) {
    it(`${scheme}: allows exactly the sequences some chunking encodes to (lengths 1-4)`, () => {
      const labels = LABELS[scheme];
      const types = scheme === "BMES" ? [""] : ["PER", "LOC"];
      const constraints = allowedTransitions(scheme, labels);
      const index = new Map(labels.map((label, i) => [label, i]));
      for (let n = 1; n <= 4; n++) {
        const valid = new Set(
          chunkings(n, types, scheme !== "BMES").map((chunks) => encode(scheme, chunks, n).join(" ")),
        );
        for (const sequence of sequences(labels, n)) {
          const ids = sequence.map((label) => index.get(label) as number);
          const allowed =
            (constraints.start[ids[0] as number] as boolean) &&
            (constraints.end[ids[n - 1] as number] as boolean) &&
            ids.every((to, t) => t === 0 || (constraints.transitions[ids[t - 1] as number]?.[to] as boolean));
          expect({ sequence: sequence.join(" "), allowed }).toEqual({
            sequence: sequence.join(" "),
            allowed: valid.has(sequence.join(" ")),
          });
        }
      }
    });
  }

  it("makes a constrained CRF decode only valid BIO sequences, even against the emissions", () => {
    const labels = ["O", "B-PER", "I-PER"];
    const crf = new LinearChainCrf({ numTags: 3, allowed: allowedTransitions("BIO", labels) });
    // Emissions strongly prefer I-PER everywhere, which is invalid at the start and after O.
    const { paths } = crf.decode([
      [
        [0, 1, 5],
        [0, 1, 5],
        [3, 0, 2],
      ],
    ]);
    expect(paths[0]?.map((tag) => labels[tag])).toEqual(["B-PER", "I-PER", "O"]);
  });

  it("accepts bare prefixes (untyped chunks)", () => {
    const constraints = allowedTransitions("BIO", ["O", "B", "I"]);
    expect(constraints.start).toEqual([true, true, false]);
    expect(constraints.transitions[0]).toEqual([true, true, false]);
  });

  it("rejects an unknown scheme", () => {
    expect(() => allowedTransitions("BIOX" as TagScheme, ["O"])).toThrow(
      'allowedTransitions: scheme: expected one of IOB1, BIO, IOB2, IOE1, IOE2, BIOES, IOBES, BILOU, BMES, got "BIOX"',
    );
  });

  it("rejects a label that does not fit the scheme", () => {
    expect(() => allowedTransitions("BIO", ["O", "B-PER", "E-PER"])).toThrow(
      "allowedTransitions: labels[2]: expected 'O' or a label with prefix B-, I- (or the bare prefix) for scheme BIO, got \"E-PER\"",
    );
    expect(() => allowedTransitions("BMES", ["B", "O"])).toThrow(CrfError);
    expect(() => allowedTransitions("BIO", ["B-"])).toThrow('got "B-"');
  });

  it("rejects an empty label list", () => {
    expect(() => allowedTransitions("BIO", [])).toThrow(
      "allowedTransitions: labels: expected a non-empty array of label strings",
    );
  });
});
