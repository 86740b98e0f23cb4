import { describe, expect, it } from "vitest";
import { logLogSlope, timeRuns } from "./stats.js";

describe("logLogSlope", () => {
  it("recovers the exponent of a power law", () => {
    const x = [64, 128, 256, 512, 1024];
    expect(
      logLogSlope(
        x,
        x.map((v) => 3 * v),
      ),
    ).toBeCloseTo(1, 12);
    expect(
      logLogSlope(
        x,
        x.map((v) => 0.5 * v * v),
      ),
    ).toBeCloseTo(2, 12);
  });
});

describe("timeRuns", () => {
  it("runs warm-up and timed repeats, returning one duration per repeat", () => {
    let calls = 0;
    const { seconds, cpuSeconds } = timeRuns(() => calls++, 4, 2);
    expect(calls).toBe(6);
    expect(seconds).toHaveLength(4);
    expect(cpuSeconds).toHaveLength(4);
    expect([...seconds, ...cpuSeconds].every((s) => s >= 0)).toBe(true);
  });
});
