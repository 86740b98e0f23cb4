import { describe, expect, it } from "vitest";
import { encodeProblem, makeProblem, pathScore } from "./problem.js";

describe("makeProblem", () => {
  it("is seeded, full length, with gold tags in range and scores near N(0, 1)", () => {
    const a = makeProblem(8, 50, 5, 1);
    expect(makeProblem(8, 50, 5, 1).emissions).toEqual(a.emissions);
    expect(makeProblem(8, 50, 5, 2).emissions).not.toEqual(a.emissions);
    expect(Array.from(a.lengths)).toEqual(new Array(8).fill(50));
    expect(a.gold.every((tag) => tag >= 0 && tag < 5)).toBe(true);
    const n = a.emissions.length;
    const mean = a.emissions.reduce((sum, x) => sum + x, 0) / n;
    const variance = a.emissions.reduce((sum, x) => sum + (x - mean) ** 2, 0) / n;
    // 2000 draws: standard errors 0.022 (mean) and 0.032 (variance)
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(variance - 1)).toBeLessThan(0.15);
  });
});

describe("encodeProblem", () => {
  it("writes the XCRF layout the peers read", () => {
    const problem = makeProblem(2, 3, 4, 9);
    const bytes = encodeProblem(problem);
    const view = new DataView(bytes.buffer);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("XCRF");
    expect([4, 8, 12, 16].map((offset) => view.getInt32(offset, true))).toEqual([1, 2, 3, 4]);
    const floats = 2 * 3 * 4 + 16 + 4 + 4;
    expect(bytes.length).toBe(20 + 4 * (floats + 2 + 6));
    expect(view.getFloat32(20 + 4 * 5, true)).toBe(problem.emissions[5]);
    expect(view.getFloat32(20 + 4 * (24 + 3), true)).toBe(problem.transitions[3]);
    expect(view.getFloat32(20 + 4 * (24 + 16 + 4 + 1), true)).toBe(problem.end[1]);
    expect(view.getInt32(20 + 4 * (floats + 1), true)).toBe(3);
    expect(view.getInt32(20 + 4 * (floats + 2 + 4), true)).toBe(problem.gold[4]);
  });
});

describe("pathScore", () => {
  it("adds start, emissions, transitions and end", () => {
    const problem = makeProblem(2, 3, 2, 4);
    const e = (t: number, k: number) => problem.emissions[(1 * 3 + t) * 2 + k] as number;
    const expected =
      (problem.start[1] as number) +
      e(0, 1) +
      (problem.transitions[1 * 2 + 0] as number) +
      e(1, 0) +
      (problem.transitions[0 * 2 + 0] as number) +
      e(2, 0) +
      (problem.end[0] as number);
    expect(pathScore(problem, 1, [1, 0, 0])).toBeCloseTo(expected, 12);
  });
});

describe("makeProblem with a peak", () => {
  it("adds the peak to the gold tag's emission and nothing else", () => {
    const flat = makeProblem(2, 3, 4, 9);
    const peaked = makeProblem(2, 3, 4, 9, 5);
    for (let position = 0; position < 6; position++) {
      for (let k = 0; k < 4; k++) {
        const index = position * 4 + k;
        const expected = Math.fround((flat.emissions[index] as number) + (k === flat.gold[position] ? 5 : 0));
        expect(peaked.emissions[index]).toBe(expected);
      }
    }
    expect(peaked.transitions).toEqual(flat.transitions);
  });
});
