import { describe, expect, it } from "vitest";
import { CrfError } from "./errors.js";
import { type CrfJson, LinearChainCrf, type Reduction } from "./linear-chain-crf.js";
import { allowedTransitions } from "./schemes.js";

/** Asserts that `run` throws a CrfError with exactly this message. */
function throwsExactly(run: () => unknown, message: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CrfError);
  expect((caught as CrfError).message).toBe(message);
}

describe("CrfError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new CrfError("LinearChainCrf.decode", "lengths[2]", "an integer in 1..5", "7");
    expect(error.message).toBe("LinearChainCrf.decode: lengths[2]: expected an integer in 1..5, got 7");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("CrfError");
    expect([error.fn, error.argument, error.expected, error.got]).toEqual([
      "LinearChainCrf.decode",
      "lengths[2]",
      "an integer in 1..5",
      "7",
    ]);
  });
});

describe("constructor and parameter errors", () => {
  it("rejects bad numTags and options", () => {
    throwsExactly(
      () => new LinearChainCrf({ numTags: 0 }),
      "new LinearChainCrf: options.numTags: expected a positive integer, got 0",
    );
    throwsExactly(
      () => new LinearChainCrf({ numTags: 2.5 }),
      "new LinearChainCrf: options.numTags: expected a positive integer, got 2.5",
    );
    throwsExactly(
      () => new LinearChainCrf(null as unknown as { numTags: number }),
      "new LinearChainCrf: options: expected an object with numTags, got null",
    );
  });

  it("rejects parameters of the wrong size, shape or value", () => {
    throwsExactly(
      () => new LinearChainCrf({ numTags: 2, transitions: new Float64Array(3) }),
      "new LinearChainCrf: options.transitions: expected 4 values (shape [2, 2], row-major [from, to]), got 3",
    );
    throwsExactly(
      () => new LinearChainCrf({ numTags: 2, transitions: [[0, 1], [2]] }),
      "new LinearChainCrf: options.transitions[1]: expected a row of 2 scores, got 1 values",
    );
    throwsExactly(
      () => new LinearChainCrf({ numTags: 2, start: [0, Number.NaN] }),
      "new LinearChainCrf: options.start[1]: expected a finite number, got NaN",
    );
    throwsExactly(
      () => new LinearChainCrf({ numTags: 2, end: { data: new Float32Array(2), dims: [1, 2] } }),
      "new LinearChainCrf: options.end.dims: expected [2], got [1, 2]",
    );
  });

  it("rejects malformed constraints", () => {
    throwsExactly(
      () =>
        new LinearChainCrf({
          numTags: 2,
          allowed: { transitions: [[true, true]], start: [true, true], end: [true, true] },
        }),
      "new LinearChainCrf: options.allowed.transitions: expected 2 rows of 2 booleans, got 1",
    );
    throwsExactly(
      () =>
        new LinearChainCrf({
          numTags: 2,
          allowed: {
            transitions: [
              [true, true],
              [true, true],
            ],
            start: [true],
            end: [true, true],
          },
        }),
      "new LinearChainCrf: options.allowed.start: expected 2 booleans, got 1",
    );
    throwsExactly(
      () =>
        new LinearChainCrf({
          numTags: 2,
          allowed: { transitions: [[true, true], [true]], start: [true, true], end: [true, true] },
        }),
      "new LinearChainCrf: options.allowed.transitions[1]: expected 2 booleans, got 1",
    );
  });

  it("rejects bad setParameters, fromJSON and fromState input", () => {
    const crf = new LinearChainCrf({ numTags: 2 });
    throwsExactly(
      () => crf.setParameters({ transitions: [1, 2, 3, Number.POSITIVE_INFINITY] }),
      "LinearChainCrf.setParameters: parameters.transitions[3]: expected a finite number, got Infinity",
    );
    throwsExactly(
      () => crf.setParameters(null as unknown as object),
      "LinearChainCrf.setParameters: parameters: expected an object with transitions, start and/or end, got null",
    );
    expect(() => LinearChainCrf.fromJSON({ format: "other" } as unknown as CrfJson)).toThrow(
      'LinearChainCrf.fromJSON: json: expected { format: "xlt-crf", version: 1, ... }, got {"format":"other"}',
    );
    throwsExactly(
      () => LinearChainCrf.fromState({}),
      'LinearChainCrf.fromState: state["transitions"]: expected a [numTags, numTags] tensor, got undefined',
    );
  });
});

describe("emission, length and tag errors", () => {
  const crf = new LinearChainCrf({ numTags: 3 });
  const good = [
    [
      [0, 1, 2],
      [1, 0, 0],
    ],
  ];

  it("rejects emissions of the wrong shape or type", () => {
    throwsExactly(
      () => crf.decode({ data: new Float32Array(6), dims: [2, 3] }),
      "LinearChainCrf.decode: emissions.dims: expected 3 dims [batch, steps, numTags], got an array of length 2",
    );
    throwsExactly(
      () => crf.decode({ data: new Float32Array(8), dims: [1, 2, 4] }),
      "LinearChainCrf.decode: emissions.dims[2]: expected numTags = 3, got 4",
    );
    throwsExactly(
      () => crf.decode({ data: new Float32Array(5), dims: [1, 2, 3] }),
      "LinearChainCrf.decode: emissions.data.length: expected 6 (= 1·2·3), got 5",
    );
    throwsExactly(
      () => crf.decode({ data: new Int32Array(6), dims: [1, 2, 3] }),
      "LinearChainCrf.decode: emissions.data: expected a Float32Array, Float64Array or number[], got Int32Array(6)",
    );
    throwsExactly(
      () => crf.decode({ data: new Float32Array(6), dims: [1, -2, 3] }),
      "LinearChainCrf.decode: emissions.dims: expected non-negative integers, got [1, -2, 3]",
    );
    throwsExactly(
      () => crf.decode(42 as unknown as number[][][]),
      "LinearChainCrf.decode: emissions: expected a { data, dims } tensor or number[][][], got 42",
    );
    throwsExactly(
      () => crf.decode([5] as unknown as number[][][]),
      "LinearChainCrf.decode: emissions[0]: expected an array of steps, got 5",
    );
    throwsExactly(
      () => crf.decode([[[0, 1]]]),
      "LinearChainCrf.decode: emissions[0][0]: expected 3 scores (numTags), got an array of length 2",
    );
  });

  it("rejects NaN and +Infinity emissions, naming the position", () => {
    throwsExactly(
      () =>
        crf.logPartition([
          [
            [0, 1, 2],
            [1, Number.NaN, 0],
          ],
        ]),
      "LinearChainCrf.logPartition: emissions[0][1][1]: expected a number that is finite or -Infinity, got NaN",
    );
    throwsExactly(
      () =>
        crf.marginals({ data: new Float64Array([0, 0, 0, 0, 0, Number.POSITIVE_INFINITY]), dims: [1, 2, 3] }),
      "LinearChainCrf.marginals: emissions[0][1][2]: expected a number that is finite or -Infinity, got Infinity",
    );
  });

  it("rejects lengths of 0, past steps, non-integers, or the wrong count", () => {
    throwsExactly(
      () => crf.decode(good, { lengths: [0] }),
      "LinearChainCrf.decode: options.lengths[0]: expected an integer in 1..2 (steps = 2), got 0",
    );
    throwsExactly(
      () => crf.nbest(good, 2, { lengths: [3] }),
      "LinearChainCrf.nbest: options.lengths[0]: expected an integer in 1..2 (steps = 2), got 3",
    );
    throwsExactly(
      () => crf.logPartition(good, { lengths: [1.5] }),
      "LinearChainCrf.logPartition: options.lengths[0]: expected an integer in 1..2 (steps = 2), got 1.5",
    );
    throwsExactly(
      () => crf.logPartition(good, { lengths: [1, 2] }),
      "LinearChainCrf.logPartition: options.lengths: expected 1 lengths (one per sequence), got an array of length 2",
    );
    throwsExactly(
      () => crf.logPartition([good[0] as number[][], [[0, 0, 0]]], { lengths: [2, 2] }),
      "LinearChainCrf.logPartition: options.lengths[1]: expected an integer in 1..1 (the 1 steps of emissions[1]), got 2",
    );
    throwsExactly(
      () => crf.decode([[]]),
      "LinearChainCrf.decode: emissions[0]: expected at least one step (or pass lengths), got 0 steps",
    );
  });

  it("rejects a bad k for nbest", () => {
    throwsExactly(() => crf.nbest(good, 0), "LinearChainCrf.nbest: k: expected a positive integer, got 0");
  });

  it("rejects tags out of range or of the wrong shape", () => {
    throwsExactly(
      () => crf.nll(good, [[0, 3]]),
      "LinearChainCrf.nll: tags[0][1]: expected an integer tag in 0..2 or -1 (unknown), got 3",
    );
    throwsExactly(
      () => crf.nll(good, [[-2, 0]]),
      "LinearChainCrf.nll: tags[0][0]: expected an integer tag in 0..2 or -1 (unknown), got -2",
    );
    throwsExactly(
      () => crf.nll(good, [[0]]),
      "LinearChainCrf.nll: tags[0]: expected at least 2 tags (the sequence length), got an array of length 1",
    );
    throwsExactly(
      () =>
        crf.nll(good, [
          [0, 1],
          [1, 1],
        ]),
      "LinearChainCrf.nll: tags: expected 1 tag sequences (one per emissions row), got an array of length 2",
    );
    throwsExactly(
      () => crf.nll(good, { data: new Int32Array([0, 1]), dims: [2, 1] }),
      "LinearChainCrf.nll: tags.dims: expected [1, 2], got [2, 1]",
    );
    throwsExactly(
      () => crf.nll(good, { data: new Float32Array([0, 1]), dims: [1, 2] }),
      "LinearChainCrf.nll: tags.data: expected an integer array of 2 tags, got Float32Array(2)",
    );
    throwsExactly(
      () => crf.nll(good, { data: new Int32Array([0, 9]), dims: [1, 2] }),
      "LinearChainCrf.nll: tags[0][1]: expected an integer tag in 0..2 or -1 (unknown), got 9",
    );
  });

  it("rejects malformed tag masks", () => {
    throwsExactly(
      () => crf.nll(good, { data: new Uint8Array(6), dims: [1, 2, 2] }),
      "LinearChainCrf.nll: tags.dims: expected [1, 2, 3] for a tag mask, got [1, 2, 2]",
    );
    throwsExactly(
      () => crf.nll(good, { data: new Int32Array(6), dims: [1, 2, 3] }),
      "LinearChainCrf.nll: tags.data: expected a Uint8Array of 6 mask values, got Int32Array(6)",
    );
    throwsExactly(
      () => crf.nll(good, { data: new Uint8Array([1, 0, 0, 0, 0, 0]), dims: [1, 2, 3] }),
      "LinearChainCrf.nll: tags mask[0][1]: expected at least one allowed tag, got none",
    );
  });

  it("rejects an unknown reduction", () => {
    throwsExactly(
      () => crf.nll(good, [[0, 1]], { reduction: "avg" as Reduction }),
      'LinearChainCrf.nll: options.reduction: expected "sum", "mean", "token_mean" or "none", got "avg"',
    );
  });
});

describe("no allowed path", () => {
  // BIO over [O, B, I] with emissions of -Infinity on O and B: only I is possible, and I cannot start.
  const crf = new LinearChainCrf({ numTags: 3, allowed: allowedTransitions("BIO", ["O", "B-X", "I-X"]) });
  const inf = Number.NEGATIVE_INFINITY;
  const impossible = [[[inf, inf, 0]]];
  const message = (fn: string) =>
    `LinearChainCrf.${fn}: emissions[0]: expected a sequence with at least one allowed path, got none (every path is forbidden by the constraints or a -Infinity score)`;

  it("is an error in every method, not NaN", () => {
    throwsExactly(() => crf.decode(impossible), message("decode"));
    throwsExactly(() => crf.nbest(impossible, 2), message("nbest"));
    throwsExactly(() => crf.logPartition(impossible), message("logPartition"));
    throwsExactly(() => crf.marginals(impossible), message("marginals"));
    throwsExactly(() => crf.nll(impossible, [[2]]), message("nll"));
  });

  it("names the forbidden step when gold tags violate the constraints", () => {
    throwsExactly(
      () =>
        crf.nll(
          [
            [
              [0, 0, 0],
              [0, 0, 0],
            ],
          ],
          [[0, 2]],
        ),
      "LinearChainCrf.nll: tags[0]: expected a tag sequence the constraints allow, got a forbidden transition 0 → 2 at step 1",
    );
    throwsExactly(
      () => crf.nll([[[0, 0, 0]]], [[2]]),
      "LinearChainCrf.nll: tags[0]: expected a tag sequence the constraints allow, got a forbidden start in tag 2",
    );
  });

  it("says so when partial labels admit no allowed path", () => {
    throwsExactly(
      () =>
        crf.nll(
          [
            [
              [0, inf, 0],
              [0, 0, 0],
            ],
          ],
          [[-1, 2]],
        ),
      "LinearChainCrf.nll: tags[0]: expected labels that admit at least one allowed path, got none under the constraints",
    );
  });
});
