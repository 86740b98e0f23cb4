import { describe, expect, it } from "vitest";
import { comparePaths, maxRelativeError } from "./agreement.js";
import { makeProblem, type Problem, pathScore } from "./problem.js";

/** Brute-force best path of sequence b. */
function bestPath(problem: Problem, b: number): number[] {
  const score = (path: number[]) => pathScore(problem, b, path);
  let best: number[] = [];
  let bestScore = Number.NEGATIVE_INFINITY;
  const { steps, tags } = problem;
  for (let code = 0; code < tags ** steps; code++) {
    const path = Array.from({ length: steps }, (_, t) => Math.floor(code / tags ** t) % tags);
    const s = score(path);
    if (s > bestScore) {
      bestScore = s;
      best = path;
    }
  }
  return best;
}

describe("comparePaths", () => {
  it("counts identical paths, ties and disagreements", () => {
    const problem = makeProblem(3, 4, 3, 5);
    const reference = [0, 1, 2].map((b) => bestPath(problem, b));
    const wrong = (reference[1] as number[]).map((tag) => (tag + 1) % 3);
    expect(comparePaths(problem, reference, reference, 1e-9)).toEqual({
      identical: 3,
      ties: 0,
      disagreements: 0,
    });
    expect(comparePaths(problem, reference, [reference[0] as number[], wrong, [0]], 1e-9)).toEqual({
      identical: 1,
      ties: 0,
      disagreements: 2,
    });
    // with an enormous tolerance every different path is a "tie"
    expect(
      comparePaths(problem, reference, [reference[0] as number[], wrong, reference[2] as number[]], 1e9),
    ).toEqual({
      identical: 2,
      ties: 1,
      disagreements: 0,
    });
  });
});

describe("maxRelativeError", () => {
  it("takes the worst |a − b| / max(1, |b|)", () => {
    expect(maxRelativeError([1, 100.5, 0.25], [1, 100, 0.5])).toBeCloseTo(0.25, 12);
  });
});
