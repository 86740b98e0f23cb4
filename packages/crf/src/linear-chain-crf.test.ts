import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CrfError } from "./errors.js";
import { LinearChainCrf, type Reduction } from "./linear-chain-crf.js";
import { bruteForce, type LabelFilter, pathScore } from "./test-utils/brute-force.js";
import { type RandomCase, randomCase } from "./test-utils/random-case.js";

const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const RUNS = { numRuns: 150 };

function build(c: RandomCase): LinearChainCrf {
  return new LinearChainCrf({
    numTags: c.crf.K,
    transitions: c.crf.transitions,
    start: c.crf.start,
    end: c.crf.end,
    ...(c.crf.allowed ? { allowed: c.crf.allowed } : {}),
  });
}

/** The first `length` steps of sequence b. */
const sequence = (c: RandomCase, b: number) => (c.emissions[b] as number[][]).slice(0, c.lengths[b]);

function closeTo(actual: number, expected: number, tolerance = 1e-9): void {
  if (expected === Number.NEGATIVE_INFINITY || actual === Number.NEGATIVE_INFINITY) {
    expect(actual).toBe(expected);
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

/** Whether every sequence of the case has at least one allowed path. */
function feasible(c: RandomCase): boolean {
  return c.emissions.every((_, b) => bruteForce(c.crf, sequence(c, b)).ranked.length > 0);
}

describe("LinearChainCrf against brute-force enumeration", () => {
  for (const constrained of [false, true]) {
    const label = constrained ? "with constraints" : "unconstrained";

    it(`logPartition, decode, 3-best and marginals match (${label})`, () => {
      fc.assert(
        fc.property(seeds, (seed) => {
          const c = randomCase({ seed, constrained });
          fc.pre(feasible(c));
          const crf = build(c);
          const options = { lengths: c.lengths };
          const logZ = crf.logPartition(c.emissions, options);
          const decoded = crf.decode(c.emissions, { ...options, withConfidence: true });
          const nbest = crf.nbest(c.emissions, 3, options);
          const marginals = crf.marginals(c.emissions, options);
          const K = c.crf.K;
          c.emissions.forEach((_, b) => {
            const brute = bruteForce(c.crf, sequence(c, b));
            closeTo(logZ[b] as number, brute.logZ);
            expect(decoded.paths[b]).toEqual(brute.best.path);
            closeTo(decoded.scores[b] as number, brute.best.score);
            closeTo(decoded.pathProbabilities?.[b] as number, Math.exp(brute.best.score - brute.logZ));
            const top = brute.ranked.slice(0, 3);
            expect(nbest[b]?.map((entry) => entry.path)).toEqual(top.map((entry) => entry.path));
            nbest[b]?.forEach((entry, r) => {
              closeTo(entry.score, top[r]?.score as number);
            });
            for (let t = 0; t < c.steps; t++) {
              let sum = 0;
              for (let j = 0; j < K; j++) {
                const value = marginals.data[(b * c.steps + t) * K + j] as number;
                if (t < (c.lengths[b] as number)) {
                  closeTo(value, brute.marginals[t]?.[j] as number);
                  sum += value;
                } else {
                  expect(value).toBe(0);
                }
              }
              if (t < (c.lengths[b] as number)) closeTo(sum, 1);
            }
            decoded.paths[b]?.forEach((tag, t) => {
              closeTo(decoded.confidences?.[b]?.[t] as number, brute.marginals[t]?.[tag] as number);
            });
          });
          expect(marginals.dims).toEqual([c.emissions.length, c.steps, K]);
        }),
        RUNS,
      );
    });

    for (const labels of ["full", "partial", "mask"] as const) {
      it(`nll and every gradient match expected feature counts (${label}, ${labels} labels)`, () => {
        fc.assert(
          fc.property(
            seeds,
            fc.constantFrom<Reduction>("sum", "mean", "token_mean", "none"),
            (seed, reduction) => {
              const c = randomCase({ seed, constrained, unknownRate: labels === "partial" ? 0.4 : 0 });
              const K = c.crf.K;
              const batch = c.emissions.length;
              // Fuzzy labels: a random mask per position that always contains the gold tag.
              const mask = new Uint8Array(batch * c.steps * K);
              const random = (seed * 2654435761) >>> 0;
              for (let index = 0; index < mask.length; index++) mask[index] = (random >>> (index % 31)) & 1;
              c.tags.forEach((row, b) => {
                row.forEach((tag, t) => {
                  mask[(b * c.steps + t) * K + Math.max(tag, 0)] = 1;
                });
              });
              const filters: LabelFilter[] = c.tags.map((row, b) =>
                labels === "mask"
                  ? (t, j) => mask[(b * c.steps + t) * K + j] === 1
                  : (t, j) => (row[t] as number) < 0 || row[t] === j,
              );
              const bruteAll = c.emissions.map((_, b) => bruteForce(c.crf, sequence(c, b)));
              const consistent = bruteAll.map((brute, b) => brute.expected(filters[b]));
              fc.pre(bruteAll.every((brute) => brute.ranked.length > 0));
              fc.pre(consistent.every((e) => e.logZ > Number.NEGATIVE_INFINITY));
              const crf = build(c);
              const tags = labels === "mask" ? { data: mask, dims: [batch, c.steps, K] } : c.tags;
              const result = crf.nll(c.emissions, tags, { lengths: c.lengths, reduction });
              const losses = bruteAll.map((brute, b) => brute.logZ - (consistent[b]?.logZ as number));
              const tokens = c.lengths.reduce((a, b) => a + b, 0);
              const scale = reduction === "mean" ? 1 / batch : reduction === "token_mean" ? 1 / tokens : 1;
              if (reduction === "none") {
                expect(result.loss).toHaveLength(batch);
                (result.loss as number[]).forEach((loss, b) => {
                  closeTo(loss, losses[b] as number);
                });
              } else {
                closeTo(result.loss as number, losses.reduce((a, b) => a + b, 0) * scale);
              }
              const gradT = new Array<number>(K * K).fill(0);
              const gradS = new Array<number>(K).fill(0);
              const gradE = new Array<number>(K).fill(0);
              bruteAll.forEach((brute, b) => {
                const all = brute.expected();
                const gold = consistent[b] as ReturnType<typeof brute.expected>;
                for (let t = 0; t < c.steps; t++) {
                  for (let j = 0; j < K; j++) {
                    const actual = result.grad.emissions.data[(b * c.steps + t) * K + j] as number;
                    if (t >= (c.lengths[b] as number)) expect(actual).toBe(0);
                    else
                      closeTo(
                        actual,
                        scale * ((all.unary[t]?.[j] as number) - (gold.unary[t]?.[j] as number)),
                      );
                  }
                }
                for (let i = 0; i < K; i++) {
                  gradS[i] =
                    (gradS[i] as number) + scale * ((all.start[i] as number) - (gold.start[i] as number));
                  gradE[i] =
                    (gradE[i] as number) + scale * ((all.end[i] as number) - (gold.end[i] as number));
                  for (let j = 0; j < K; j++) {
                    const d = (all.pairwise[i]?.[j] as number) - (gold.pairwise[i]?.[j] as number);
                    gradT[i * K + j] = (gradT[i * K + j] as number) + scale * d;
                  }
                }
              });
              gradT.forEach((value, index) => {
                closeTo(result.grad.transitions.data[index] as number, value);
              });
              gradS.forEach((value, index) => {
                closeTo(result.grad.start.data[index] as number, value);
              });
              gradE.forEach((value, index) => {
                closeTo(result.grad.end.data[index] as number, value);
              });
              expect(result.grad.transitions.dims).toEqual([K, K]);
            },
          ),
          RUNS,
        );
      });
    }
  }

  it("gradients agree with central finite differences of the loss in a random direction", () => {
    fc.assert(
      fc.property(seeds, fc.boolean(), (seed, constrained) => {
        const c = randomCase({ seed, constrained, unknownRate: 0.3 });
        const K = c.crf.K;
        const batch = c.emissions.length;
        const lossAt = (h: number, direction: ReturnType<typeof randomDirection>): number => {
          const crf = new LinearChainCrf({
            numTags: K,
            transitions: c.crf.transitions
              .flat()
              .map((value, index) => value + h * (direction.transitions[index] as number)),
            start: c.crf.start.map((value, index) => value + h * (direction.start[index] as number)),
            end: c.crf.end.map((value, index) => value + h * (direction.end[index] as number)),
            ...(c.crf.allowed ? { allowed: c.crf.allowed } : {}),
          });
          const emissions = c.emissions.map((row, b) =>
            row.map((scores, t) =>
              scores.map(
                (value, j) => value + h * (direction.emissions[(b * c.steps + t) * K + j] as number),
              ),
            ),
          );
          return crf.nll(emissions, c.tags, { lengths: c.lengths, reduction: "sum" }).loss;
        };
        let base: ReturnType<LinearChainCrf["nll"]>;
        try {
          base = build(c).nll(c.emissions, c.tags, { lengths: c.lengths, reduction: "sum" });
        } catch (error) {
          fc.pre(!(error instanceof CrfError));
          throw error;
        }
        const direction = randomDirection(seed, batch * c.steps * K, K);
        const h = 1e-5;
        const numeric = (lossAt(h, direction) - lossAt(-h, direction)) / (2 * h);
        const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
          let sum = 0;
          for (let index = 0; index < a.length; index++) sum += (a[index] as number) * (b[index] as number);
          return sum;
        };
        const analytic =
          dot(base.grad.emissions.data, direction.emissions) +
          dot(base.grad.transitions.data, direction.transitions) +
          dot(base.grad.start.data, direction.start) +
          dot(base.grad.end.data, direction.end);
        expect(Math.abs(numeric - analytic)).toBeLessThan(1e-6 * Math.max(1, Math.abs(analytic)));
      }),
      RUNS,
    );
  });
});

function randomDirection(seed: number, emissions: number, K: number) {
  let state = seed ^ 0x9e3779b9;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  return {
    emissions: Array.from({ length: emissions }, next),
    transitions: Array.from({ length: K * K }, next),
    start: Array.from({ length: K }, next),
    end: Array.from({ length: K }, next),
  };
}

describe("LinearChainCrf numerics", () => {
  it("stays exact for emissions of magnitude 1e4 (no NaN, no Infinity)", () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const c = randomCase({ seed, scale: 1e4, constrained: true, unknownRate: 0.3 });
        fc.pre(feasible(c));
        const crf = build(c);
        const logZ = crf.logPartition(c.emissions, { lengths: c.lengths });
        const marginals = crf.marginals(c.emissions, { lengths: c.lengths });
        c.emissions.forEach((_, b) => {
          closeTo(logZ[b] as number, bruteForce(c.crf, sequence(c, b)).logZ, 1e-12);
        });
        for (const value of marginals.data) expect(Number.isFinite(value)).toBe(true);
        // Gradients against brute-force expected counts (with constraints, 1e4-scale scores send
        // forward-backward down its exact fallback wherever a column's best predecessor is forbidden).
        const K = c.crf.K;
        const filters: LabelFilter[] = c.tags.map((row) => (t, j) => (row[t] as number) < 0 || row[t] === j);
        const expected = c.emissions.map((_, b) => {
          const brute = bruteForce(c.crf, sequence(c, b));
          return { all: brute.expected(), gold: brute.expected(filters[b]) };
        });
        fc.pre(expected.every(({ gold }) => gold.logZ > Number.NEGATIVE_INFINITY));
        const { loss, grad } = crf.nll(c.emissions, c.tags, { lengths: c.lengths, reduction: "sum" });
        const total = expected.reduce((sum, { all, gold }) => sum + all.logZ - gold.logZ, 0);
        closeTo(loss, total, 1e-12);
        const gradT = new Array<number>(K * K).fill(0);
        expected.forEach(({ all, gold }, b) => {
          for (let t = 0; t < (c.lengths[b] as number); t++) {
            for (let j = 0; j < K; j++) {
              const actual = grad.emissions.data[(b * c.steps + t) * K + j] as number;
              expect(
                Math.abs(actual - ((all.unary[t]?.[j] as number) - (gold.unary[t]?.[j] as number))),
              ).toBeLessThan(1e-9);
            }
          }
          for (let i = 0; i < K; i++) {
            for (let j = 0; j < K; j++) {
              gradT[i * K + j] =
                (gradT[i * K + j] as number) +
                (all.pairwise[i]?.[j] as number) -
                (gold.pairwise[i]?.[j] as number);
            }
          }
        });
        gradT.forEach((value, index) => {
          expect(Math.abs((grad.transitions.data[index] as number) - value)).toBeLessThan(1e-9);
        });
      }),
      RUNS,
    );
  });

  it("keeps a path that only survives through scores underflowing exp (exact fallback)", () => {
    // Tag 1 scores -5000 per step but the constraints force it everywhere: the scaled sums underflow.
    const crf = new LinearChainCrf({
      numTags: 2,
      allowed: {
        transitions: [
          [true, false],
          [false, true],
        ],
        start: [false, true],
        end: [true, true],
      },
    });
    const emissions = [Array.from({ length: 6 }, () => [5000, -5000])];
    expect(crf.logPartition(emissions)[0]).toBeCloseTo(-30000, 9);
    expect(crf.decode(emissions).paths[0]).toEqual([1, 1, 1, 1, 1, 1]);
    const marginals = crf.marginals(emissions);
    expect(Array.from(marginals.data)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    const { loss } = crf.nll(emissions, [[1, 1, 1, 1, 1, 1]]);
    expect(loss).toBeCloseTo(0, 9);
  });

  it("treats -Infinity emissions as impossible tags", () => {
    const crf = new LinearChainCrf({ numTags: 3 });
    const emissions = [
      [
        [0, Number.NEGATIVE_INFINITY, 1],
        [2, Number.NEGATIVE_INFINITY, 0],
      ],
    ];
    expect(crf.decode(emissions).paths[0]).toEqual([2, 0]);
    const marginals = crf.marginals(emissions).data;
    expect(marginals[1]).toBe(0);
    expect(marginals[4]).toBe(0);
    const brute = bruteForce(
      {
        K: 3,
        transitions: [
          [0, 0, 0],
          [0, 0, 0],
          [0, 0, 0],
        ],
        start: [0, 0, 0],
        end: [0, 0, 0],
      },
      emissions[0] as number[][],
    );
    closeTo(crf.logPartition(emissions)[0] as number, brute.logZ);
  });

  it("breaks ties toward smaller tags: decode per step, nbest by the last tag first", () => {
    const crf = new LinearChainCrf({ numTags: 3 });
    const flat = [
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
    ];
    expect(crf.decode(flat).paths[0]).toEqual([0, 0]);
    expect(crf.nbest(flat, 4)[0]?.map((entry) => entry.path)).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [0, 1],
    ]);
  });

  it("is deterministic and leaves no state between calls of different shapes", () => {
    const a = randomCase({ seed: 7, maxSteps: 6, maxTags: 5 });
    const crf = build(a);
    const first = crf.nll(a.emissions, a.tags, { lengths: a.lengths });
    crf.decode([[[1]].flat().map(() => new Array(a.crf.K).fill(0))]);
    crf.logPartition(
      Array.from({ length: 5 }, () => Array.from({ length: 20 }, () => new Array(a.crf.K).fill(0.5))),
    );
    const second = crf.nll(a.emissions, a.tags, { lengths: a.lengths });
    expect(second.loss).toBe(first.loss);
    expect(Array.from(second.grad.emissions.data)).toEqual(Array.from(first.grad.emissions.data));
  });
});

describe("LinearChainCrf inputs", () => {
  const c = randomCase({ seed: 11, maxSteps: 5, maxTags: 4, maxBatch: 3 });
  const K = c.crf.K;
  const flat = new Float64Array(c.emissions.flat(2));
  const dims = [c.emissions.length, c.steps, K];

  it("accepts Float32Array and Float64Array tensors and nested arrays alike", () => {
    const crf = build(c);
    const f32 = new Float32Array(flat);
    const nested = crf.logPartition(c.emissions, { lengths: c.lengths });
    expect(crf.logPartition({ data: flat, dims }, { lengths: c.lengths })).toEqual(nested);
    const single = crf.logPartition({ data: f32, dims }, { lengths: c.lengths });
    const rounded = crf.logPartition(
      c.emissions.map((row) => row.map((scores) => scores.map((value) => Math.fround(value)))),
      { lengths: c.lengths },
    );
    expect(single).toEqual(rounded);
  });

  it("accepts tags as an Int32Array tensor or BigInt64Array (int64 from onnxruntime)", () => {
    const crf = build(c);
    const tags = c.tags.map((row) => row.map((tag) => Math.max(tag, 0)));
    const nested = crf.nll(c.emissions, tags, { lengths: c.lengths });
    const int32 = crf.nll(
      c.emissions,
      { data: new Int32Array(tags.flat()), dims: [dims[0] as number, c.steps] },
      { lengths: c.lengths },
    );
    const int64 = crf.nll(
      c.emissions,
      { data: BigInt64Array.from(tags.flat(), (tag) => BigInt(tag)), dims: [dims[0] as number, c.steps] },
      { lengths: c.lengths },
    );
    expect(int32.loss).toBe(nested.loss);
    expect(int64.loss).toBe(nested.loss);
  });

  it("takes lengths from ragged nested arrays", () => {
    const crf = build(c);
    const ragged = c.emissions.map((row, b) => row.slice(0, c.lengths[b]));
    expect(crf.logPartition(ragged)).toEqual(crf.logPartition(c.emissions, { lengths: c.lengths }));
    expect(crf.decode(ragged).paths.map((path) => path.length)).toEqual(c.lengths);
  });

  it("nbest returns fewer paths when fewer exist", () => {
    const crf = new LinearChainCrf({ numTags: 2 });
    const result = crf.nbest([[[0.5, 0.1]]], 5);
    expect(result[0]?.map((entry) => entry.path)).toEqual([[0], [1]]);
  });
});

describe("LinearChainCrf parameters and serialisation", () => {
  const c = randomCase({ seed: 3, constrained: true, maxTags: 4 });

  it("round-trips through JSON and pytorch-crf state names", () => {
    const crf = build(c);
    const json = JSON.parse(JSON.stringify(crf));
    const again = LinearChainCrf.fromJSON(json);
    const state = crf.state();
    expect(Object.keys(state)).toEqual(["transitions", "start_transitions", "end_transitions"]);
    const fromState = LinearChainCrf.fromState(state, c.crf.allowed ? { allowed: c.crf.allowed } : {});
    const emissions = c.emissions;
    const feasibleCase = feasible(c);
    if (feasibleCase) {
      expect(again.logPartition(emissions, { lengths: c.lengths })).toEqual(
        crf.logPartition(emissions, { lengths: c.lengths }),
      );
      expect(fromState.logPartition(emissions, { lengths: c.lengths })).toEqual(
        crf.logPartition(emissions, { lengths: c.lengths }),
      );
    }
    expect(again.toJSON()).toEqual(crf.toJSON());
  });

  it("parameters() returns copies and setParameters updates every method", () => {
    const crf = new LinearChainCrf({ numTags: 2 });
    const parameters = crf.parameters();
    parameters.transitions.data[0] = 100;
    expect(crf.parameters().transitions.data[0]).toBe(0);
    crf.setParameters({
      transitions: [
        [0, 5],
        [5, 0],
      ],
      start: [0, 0],
      end: new Float32Array([0, 0]),
    });
    expect(
      crf.decode([
        [
          [1, 0],
          [1, 0],
          [1, 0],
        ],
      ]).paths[0],
    ).toEqual([0, 1, 0]);
    expect(crf.parameters().transitions).toEqual({ data: new Float64Array([0, 5, 5, 0]), dims: [2, 2] });
  });

  it("gradient descent on the nll lowers the loss monotonically (it is usable for training)", () => {
    const crf = new LinearChainCrf({ numTags: c.crf.K });
    const tags = c.tags.map((row) => row.map((tag) => Math.max(tag, 0)));
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const { loss, grad } = crf.nll(c.emissions, tags, { lengths: c.lengths });
      losses.push(loss);
      const p = crf.parameters();
      const descend = (value: Float64Array, gradient: Float64Array) =>
        value.map((x, index) => x - 0.5 * (gradient[index] as number));
      crf.setParameters({
        transitions: descend(p.transitions.data, grad.transitions.data),
        start: descend(p.start.data, grad.start.data),
        end: descend(p.end.data, grad.end.data),
      });
    }
    losses.slice(1).forEach((loss, index) => {
      expect(loss).toBeLessThanOrEqual((losses[index] as number) + 1e-12);
    });
    expect(losses.at(-1) as number).toBeLessThan((losses[0] as number) - 0.1);
  });
});

describe("pathScore oracle sanity", () => {
  it("scores a hand-computed path", () => {
    const crf = {
      K: 2,
      transitions: [
        [1, 2],
        [3, 4],
      ],
      start: [0.5, 0.25],
      end: [0.1, 0.2],
    };
    // start[1] + e[0][1] + T[1][0] + e[1][0] + end[0] = 0.25 + 2 + 3 + 10 + 0.1
    expect(
      pathScore(
        crf,
        [
          [1, 2],
          [10, 20],
        ],
        [1, 0],
      ),
    ).toBeCloseTo(15.35, 12);
  });
});
