import { LinearChainCrf } from "@xlt/crf";
import { evaluate, Graph, grad, type Tensor, type TensorValue } from "@xlt/graph";
import { bind, flatten } from "@xlt/nn";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CrfHead, FORBIDDEN_SCORE } from "./crf-head.js";
import { HeadsError } from "./errors.js";
import { maskData, maxDifference, numbers } from "./test-utils/values.js";

const LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

/** A random tag sequence that BIO allows. */
const bioTags = (length: number) =>
  fc.array(fc.integer({ min: 0, max: 4 }), { minLength: length, maxLength: length }).map((raw) => {
    const tags: number[] = [];
    for (const tag of raw) {
      const previous = tags.at(-1) ?? 0;
      const inside = tag === 2 || tag === 4;
      // I-X only after B-X or I-X; otherwise make it the B-X of the same type.
      tags.push(inside && previous !== tag && previous !== tag - 1 ? tag - 1 : tag);
    }
    return tags;
  });

const problem = fc
  .record({
    lengths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
    seed: fc.integer({ min: 1, max: 10_000 }),
  })
  .chain(({ lengths, seed }) =>
    fc.record({
      lengths: fc.constant(lengths),
      seed: fc.constant(seed),
      tags: fc.tuple(...lengths.map((n) => bioTags(n))),
    }),
  );

async function headNll(
  head: CrfHead,
  emissions: Float64Array,
  tags: number[][],
  lengths: number[],
  seed: number,
) {
  const K = LABELS.length;
  const B = lengths.length;
  const T = Math.max(...lengths);
  const graph = new Graph();
  const scores = graph.input("scores", "float64", [B, "steps", K]);
  const params = bind(head.parameters, (path, parameter) => graph.input(path, "float64", parameter.shape));
  const tagTensor = graph.constant(
    BigInt64Array.from({ length: B * T }, (_, i) => BigInt(tags[Math.floor(i / T)]?.[i % T] ?? 0)),
    [B, T],
  );
  const mask = graph.constant(maskData(lengths, T), [B, T]);
  const loss = head.loss(params, { scores, tags: tagTensor, mask });
  const names = ["crf.transitions", "crf.start", "crf.end"];
  const leaves = names.map((name) => graph.inputs.find((input) => input.name === name) as Tensor);
  const [dScores, dT, dStart, dEnd] = grad(loss, [scores, ...leaves]) as Tensor[];
  const values = new Map<string, Float64Array>();
  const feeds: Record<string, TensorValue> = { scores: { data: emissions, dims: [B, T, K] } };
  for (const [path, parameter] of flatten(head.parameters)) {
    const size = parameter.shape.reduce((a, b) => a * b, 1);
    const data = Float64Array.from({ length: size }, (_, i) => Math.sin(seed + i * 3.1 + path.length));
    values.set(path, data);
    feeds[path] = { data, dims: parameter.shape };
  }
  const result = await evaluate(
    { loss, dScores: dScores as Tensor, dT: dT as Tensor, dStart: dStart as Tensor, dEnd: dEnd as Tensor },
    feeds,
  );
  return { result, values };
}

describe("CrfHead's loss is @xlt/crf's nll", () => {
  it("with BIO constraints: loss and gradients (emissions, transitions, start, end) match", {
    timeout: 30_000,
  }, async () => {
    const head = new CrfHead({ inputSize: 2, labels: LABELS, scheme: "BIO", dtype: "float64" });
    await fc.assert(
      fc.asyncProperty(problem, async ({ lengths, seed, tags }) => {
        const K = LABELS.length;
        const T = Math.max(...lengths);
        const emissions = Float64Array.from(
          { length: lengths.length * T * K },
          (_, i) => 2 * Math.cos(seed * 7 + i),
        );
        const { result, values } = await headNll(head, emissions, tags, lengths, seed);
        const oracle = head.decoder(values);
        const padded = tags.map((row) => [...row, ...Array.from({ length: T - row.length }, () => 0)]);
        const expected = oracle.nll({ data: emissions, dims: [lengths.length, T, K] }, padded, { lengths });
        expect(Math.abs((numbers(result.loss)[0] ?? Number.NaN) - expected.loss)).toBeLessThan(1e-9);
        expect(maxDifference(numbers(result.dScores), Array.from(expected.grad.emissions.data))).toBeLessThan(
          1e-9,
        );
        expect(maxDifference(numbers(result.dT), Array.from(expected.grad.transitions.data))).toBeLessThan(
          1e-9,
        );
        expect(maxDifference(numbers(result.dStart), Array.from(expected.grad.start.data))).toBeLessThan(
          1e-9,
        );
        expect(maxDifference(numbers(result.dEnd), Array.from(expected.grad.end.data))).toBeLessThan(1e-9);
      }),
      { numRuns: 6 },
    );
  });

  it("without a scheme, every transition is free", { timeout: 30_000 }, async () => {
    const head = new CrfHead({ inputSize: 2, labels: LABELS, dtype: "float64" });
    expect(head.allowed).toBeUndefined();
    const lengths = [3, 1];
    const tags = [
      [2, 0, 4],
      [4, 0, 0],
    ];
    const emissions = Float64Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.sin(i));
    const { result, values } = await headNll(head, emissions, tags, lengths, 3);
    const expected = new LinearChainCrf({
      numTags: 5,
      transitions: values.get("crf.transitions") as Float64Array,
      start: values.get("crf.start") as Float64Array,
      end: values.get("crf.end") as Float64Array,
    }).nll({ data: emissions, dims: [2, 3, 5] }, tags, { lengths });
    expect(Math.abs((numbers(result.loss)[0] ?? Number.NaN) - expected.loss)).toBeLessThan(1e-9);
  });

  it("a gold path that breaks the scheme costs about -FORBIDDEN_SCORE per broken step, not NaN", {
    timeout: 30_000,
  }, async () => {
    const head = new CrfHead({ inputSize: 2, labels: LABELS, scheme: "BIO", dtype: "float64" });
    const emissions = new Float64Array(1 * 2 * 5);
    // Starts inside (I-PER) and then jumps to I-LOC: two forbidden steps.
    const { result } = await headNll(head, emissions, [[2, 4]], [2], 5);
    const loss = numbers(result.loss)[0] ?? Number.NaN;
    expect(loss).toBeGreaterThan(-2 * FORBIDDEN_SCORE - 10);
    expect(loss).toBeLessThan(-2 * FORBIDDEN_SCORE + 10);
  });
});

describe("CrfHead decoding", () => {
  it("keeps the scheme's constraints and reports marginal confidences", () => {
    const head = new CrfHead({ inputSize: 2, labels: LABELS, scheme: "BIO" });
    const values = new Map<string, Float32Array>([
      ["crf.transitions", new Float32Array(25)],
      ["crf.start", new Float32Array(5)],
      ["crf.end", new Float32Array(5)],
    ]);
    // I-PER alone scores best at the start, which BIO forbids.
    const scores = Float32Array.from([0.1, 0.2, 2.0, 0, 0, 0, 0.1, 1.5, 0, 0, 1, 0, 0, 0.2, 0.1]);
    const { paths, confidences } = head.decode(values, { data: scores, dims: [1, 3, 5] }, [3]);
    expect(paths).toEqual([[1, 2, 0]]);
    const expected = head.decoder(values).decode({ data: scores, dims: [1, 3, 5] }, { withConfidence: true });
    expect(confidences).toEqual(expected.confidences);
  });

  it("errors name what is missing", () => {
    const head = new CrfHead({ inputSize: 2, labels: LABELS });
    expect(() => head.decoder(new Map(), "head.")).toThrow(
      new HeadsError("CrfHead.decoder", "values", "a value for head.crf.transitions", "none"),
    );
    expect(() => new CrfHead({ inputSize: 2, labels: [] })).toThrow(
      "CrfHead: options.labels: expected at least one label, got none",
    );
  });
});
