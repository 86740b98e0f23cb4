import { describe, expect, it } from "vitest";
import { exp } from "../elementwise.js";
import { checkGrads, float64Output } from "./check-grads.js";

describe("checkGrads", () => {
  it("passes a correct gradient", async () => {
    const worst = await checkGrads((x) => exp(x), [{ shape: [3], data: Float64Array.of(0.1, -0.5, 1) }], 1);
    expect(worst).toBeLessThan(1e-6);
  });

  it("throws on a missing or misshapen loss or gradient instead of reading it as 0", () => {
    const loss = { data: Float64Array.of(2), dims: [] };
    expect(float64Output({ loss }, "loss", 1)).toEqual(Float64Array.of(2));
    expect(() => float64Output({}, "loss", 1)).toThrow(
      "checkGrads: f: expected a float64 output loss with 1 values, got none",
    );
    expect(() => float64Output({ loss }, "g0", 3)).toThrow(
      "checkGrads: f: expected a float64 output g0 with 3 values, got none",
    );
    expect(() => float64Output({ g0: { data: Float64Array.of(1, 2), dims: [2] } }, "g0", 3)).toThrow(
      "checkGrads: f: expected a float64 output g0 with 3 values, got 2 values",
    );
    expect(() => float64Output({ g0: { data: Float32Array.of(1, 2, 3), dims: [3] } }, "g0", 3)).toThrow(
      "checkGrads: f: expected a float64 output g0 with 3 values, got Float32Array",
    );
  });
});
