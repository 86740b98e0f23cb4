import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildCPeer, findTorchPeer, runPeer } from "./peers.js";
import { encodeProblem, makeProblem, type Problem, pathScore } from "./problem.js";

const directory = mkdtempSync(join(tmpdir(), "xlt-bench-peers-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Paths as codes in base `tags`, and log Z, by enumerating every path of every sequence. */
function bruteForce(problem: Problem): { paths: number[][]; logZ: number[] } {
  const paths: number[][] = [];
  const logZ: number[] = [];
  for (let b = 0; b < problem.batch; b++) {
    let best: number[] = [];
    let bestScore = Number.NEGATIVE_INFINITY;
    const scores: number[] = [];
    for (let code = 0; code < problem.tags ** problem.steps; code++) {
      const path = Array.from(
        { length: problem.steps },
        (_, t) => Math.floor(code / problem.tags ** t) % problem.tags,
      );
      const s = pathScore(problem, b, path);
      scores.push(s);
      if (s > bestScore) {
        bestScore = s;
        best = path;
      }
    }
    paths.push(best);
    logZ.push(bestScore + Math.log(scores.reduce((sum, s) => sum + Math.exp(s - bestScore), 0)));
  }
  return { paths, logZ };
}

const problem = makeProblem(3, 5, 3, 77);
const input = join(directory, "problem.bin");
writeFileSync(input, encodeProblem(problem));
const expected = bruteForce(problem);
const cPeer = buildCPeer(directory);
const torchPeer = findTorchPeer();

// Starting python and importing torch takes seconds, far more on a busy machine.
const PEER_TIMEOUT_MS = 120_000;

describe("missing peers", () => {
  it("say why they are missing instead of failing", () => {
    const noCompiler = buildCPeer(directory, "/nonexistent/cc");
    expect(noCompiler.available).toBe(false);
    if (!noCompiler.available)
      expect(noCompiler.reason).toMatch(/^\/nonexistent\/cc -O2 peers\/viterbi\.c: .*ENOENT/);
    const noPython = findTorchPeer("/nonexistent/python3");
    expect(noPython.available).toBe(false);
    if (!noPython.available)
      expect(noPython.reason).toMatch(/^\/nonexistent\/python3 -c "import torch": .*ENOENT/);
  });
});

describe("the C peer", () => {
  it.skipIf(!cPeer.available)(
    "finds the brute-force best paths",
    () => {
      if (!cPeer.available) return;
      const output = runPeer(cPeer, input, 2, 1);
      expect(output.paths).toEqual(expected.paths);
      expect(output.decode?.seconds).toHaveLength(2);
      output.scores?.forEach((score, b) => {
        expect(score).toBeCloseTo(pathScore(problem, b, expected.paths[b] as number[]), 9);
      });
    },
    PEER_TIMEOUT_MS,
  );
});

describe("the torch peer", () => {
  it.skipIf(!torchPeer.available)(
    "finds the brute-force paths and log Z",
    () => {
      if (!torchPeer.available) return;
      const output = runPeer(torchPeer, input, 1, 0, ["decode", "logPartition"]);
      expect(output.paths).toEqual(expected.paths);
      output.logZ?.forEach((value, b) => {
        expect(value).toBeCloseTo(expected.logZ[b] as number, 4);
      });
    },
    PEER_TIMEOUT_MS,
  );
});
