import type { Batch, StepSession } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { median, PeakGrowth, residentSet, TimedSession } from "./measure.js";

describe("median", () => {
  it("is the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow("median: values: expected at least one value, got none");
  });
});

describe("TimedSession", () => {
  it("times every training step and passes everything through", async () => {
    const calls: string[] = [];
    const inner: StepSession = {
      step: 0,
      trainStep: async (_batch, lrScale) => {
        calls.push(`train ${lrScale}`);
        return { loss: 1.5, gradNorm: 2 };
      },
      evalStep: async () => {
        calls.push("eval");
        return {};
      },
      snapshot: () => ({ tensors: new Map(), shapes: new Map() }),
      restore: () => {
        calls.push("restore");
      },
      release: async () => {
        calls.push("release");
      },
    };
    const timed = new TimedSession(inner);
    const batch: Batch = {};
    expect(await timed.trainStep(batch, 0.5)).toEqual({ loss: 1.5, gradNorm: 2 });
    await timed.trainStep(batch);
    await timed.evalStep(batch);
    await timed.restore(new Map(), 3);
    await timed.release();
    expect(timed.stepSeconds).toHaveLength(2);
    for (const seconds of timed.stepSeconds) expect(seconds).toBeGreaterThanOrEqual(0);
    expect(calls).toEqual(["train 0.5", "train undefined", "eval", "restore", "release"]);
    expect(timed.step).toBe(0);
  });
});

describe("PeakGrowth", () => {
  it("sees memory allocated and touched between start and stop (Linux /proc)", () => {
    expect(residentSet()).not.toBeNull();
    const growth = new PeakGrowth();
    growth.start();
    const block = new Float64Array(8 * 1024 * 1024).fill(1); // 64 MiB, touched
    const grown = growth.stop();
    expect(block[block.length - 1]).toBe(1);
    expect(grown).toBeGreaterThan(50);
    expect(new PeakGrowth().stop()).toBeNull();
  });
});
