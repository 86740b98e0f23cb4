import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  constantSchedule,
  cosineWithWarmup,
  linearWarmupDecay,
  ReduceOnPlateau,
  sample,
  stepDecay,
} from "./schedules.js";

describe("schedules", () => {
  it("cosine with warmup hits its endpoints: 0 at the start, 1 after warmup, the floor at the end", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (warmup, span, floor) => {
          const total = warmup + span;
          const schedule = cosineWithWarmup(warmup, total, { minFactor: floor });
          if (warmup > 0) expect(schedule(0)).toBe(0);
          expect(schedule(warmup)).toBeCloseTo(1, 12);
          expect(schedule(total)).toBe(floor);
          // Halfway through the decay it is halfway between 1 and the floor.
          if (span % 2 === 0) expect(schedule(warmup + span / 2)).toBeCloseTo((1 + floor) / 2, 12);
          for (let step = warmup; step < total; step += 1)
            expect(schedule(step + 1)).toBeLessThanOrEqual(schedule(step) + 1e-12);
        },
      ),
    );
  });

  it("cosine restarts begin each cycle at 1", () => {
    const schedule = cosineWithWarmup(0, 30, { cycles: 3 });
    expect([schedule(0), schedule(10), schedule(20)]).toEqual([1, 1, 1]);
    expect(schedule(5)).toBeCloseTo(0.5, 12);
  });

  it("linear warmup/decay, step decay and constant", () => {
    expect(sample(linearWarmupDecay(2, 6), 7)).toEqual([0, 0.5, 1, 0.75, 0.5, 0.25, 0]);
    expect(sample(stepDecay(2, 0.5), 5)).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(sample(constantSchedule(), 2)).toEqual([1, 1]);
  });

  it("reduce on plateau waits `patience` evaluations, then reduces", () => {
    const plateau = new ReduceOnPlateau("min", 1, 0.5);
    expect([3, 2, 2, 2, 2, 1].map((metric) => plateau.observe(metric))).toEqual([1, 1, 1, 0.5, 0.5, 0.5]);
    const copy = new ReduceOnPlateau("min", 1, 0.5);
    copy.restore(plateau.state);
    expect(copy.factor).toBe(0.5);
  });

  it("reject bad arguments", () => {
    expect(() => cosineWithWarmup(5, 5)).toThrow("cosineWithWarmup: total: expected an integer > 5, got 5");
    expect(() => cosineWithWarmup(-1, 5)).toThrow(
      "cosineWithWarmup: warmup: expected a non-negative integer, got -1",
    );
    expect(() => cosineWithWarmup(0, 5, { cycles: 0 })).toThrow(
      "cosineWithWarmup: cycles: expected a positive integer, got 0",
    );
    expect(() => linearWarmupDecay(3, 2)).toThrow("linearWarmupDecay: total: expected an integer > 3, got 2");
    expect(() => linearWarmupDecay(0.5, 2)).toThrow(
      "linearWarmupDecay: warmup: expected a non-negative integer, got 0.5",
    );
    expect(() => stepDecay(0, 0.5)).toThrow("stepDecay: every: expected a positive integer, got 0");
    expect(() => stepDecay(1, 2)).toThrow("stepDecay: gamma: expected a number in (0, 1], got 2");
    expect(() => new ReduceOnPlateau("min", 1, 1)).toThrow(
      "ReduceOnPlateau: gamma: expected a number in (0, 1), got 1",
    );
    expect(() => new ReduceOnPlateau("min", -1)).toThrow(
      "ReduceOnPlateau: patience: expected a non-negative integer, got -1",
    );
    for (const minFactor of [Number.NaN, -0.1, 1.5]) {
      expect(() => cosineWithWarmup(0, 5, { minFactor })).toThrow(
        `cosineWithWarmup: minFactor: expected a number in [0, 1], got ${minFactor}`,
      );
      expect(() => new ReduceOnPlateau("min", 1, 0.5, 0, minFactor)).toThrow(
        `ReduceOnPlateau: minFactor: expected a number in [0, 1], got ${minFactor}`,
      );
    }
    expect(sample(cosineWithWarmup(0, 2, { minFactor: 1 }), 3)).toEqual([1, 1, 1]);
    for (const threshold of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(() => new ReduceOnPlateau("max", 1, 0.5, threshold)).toThrow(
        `ReduceOnPlateau: threshold: expected a finite number >= 0, got ${threshold}`,
      );
    }
    const sideways = JSON.parse('"sideways"');
    expect(() => new ReduceOnPlateau(sideways, 1)).toThrow(
      'ReduceOnPlateau: mode: expected "min" or "max", got "sideways"',
    );
  });
});
