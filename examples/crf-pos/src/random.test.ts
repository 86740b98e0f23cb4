import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Random } from "./random.js";

describe("Random", () => {
  it("repeats its sequence for the same seed and differs for another", () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
  });

  it("draws in [0, 1) with a mean near 1/2", () => {
    const random = new Random(1);
    let sum = 0;
    const n = 20000;
    for (let index = 0; index < n; index++) {
      const x = random.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    // standard error of the mean is sqrt(1/12/n) ≈ 0.002
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
  });

  it("shuffles into a permutation of the input", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.nat(), (items, seed) => {
        const shuffled = new Random(seed).shuffle([...items]);
        expect([...shuffled].sort((x, y) => x - y)).toEqual([...items].sort((x, y) => x - y));
      }),
    );
  });
});
