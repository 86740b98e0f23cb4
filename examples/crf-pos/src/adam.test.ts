import { describe, expect, it } from "vitest";
import { Adam } from "./adam.js";

describe("Adam", () => {
  it("follows the update rule of Kingma & Ba, computed by hand for two steps", () => {
    const p = Float64Array.from([1, -2]);
    const adam = new Adam([p], { learningRate: 0.1 });
    adam.step([Float64Array.from([0.5, -4])]);
    // step 1: m̂ = g, v̂ = g², so θ moves by lr·g/(|g| + ε)
    expect(p[0]).toBeCloseTo(1 - 0.1 * (0.5 / (0.5 + 1e-8)), 12);
    expect(p[1]).toBeCloseTo(-2 + 0.1 * (4 / (4 + 1e-8)), 12);
    adam.step([Float64Array.from([1, 0])]);
    const m = 0.9 * 0.1 * 0.5 + 0.1 * 1;
    const v = 0.999 * 0.001 * 0.25 + 0.001 * 1;
    const mHat = m / (1 - 0.9 ** 2);
    const vHat = v / (1 - 0.999 ** 2);
    expect(p[0]).toBeCloseTo(1 - 0.1 * (0.5 / (0.5 + 1e-8)) - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8), 12);
  });

  it("minimises a quadratic", () => {
    const p = Float64Array.from([3, -5, 0.5]);
    const target = [1, 2, -1];
    const adam = new Adam([p], { learningRate: 0.05 });
    for (let step = 0; step < 2000; step++)
      adam.step([Float64Array.from(p, (x, index) => 2 * (x - (target[index] as number)))]);
    expect(Array.from(p).map((x) => Number(x.toFixed(3)))).toEqual(target);
  });

  it("rejects bad settings and gradients", () => {
    expect(() => new Adam([], { learningRate: 0 })).toThrow(
      "Adam: options.learningRate: expected a finite number > 0, got 0",
    );
    expect(() => new Adam([], { learningRate: 0.1, beta1: 1 })).toThrow(
      "Adam: options.beta1: expected a number in [0, 1), got 1",
    );
    expect(() => new Adam([], { learningRate: 0.1, beta2: -0.5 })).toThrow(
      "Adam: options.beta2: expected a number in [0, 1), got -0.5",
    );
    const adam = new Adam([new Float64Array(2)], { learningRate: 0.1 });
    expect(() => adam.step([])).toThrow("Adam.step: gradients: expected 1 arrays, got 0");
    expect(() => adam.step([new Float64Array(3)])).toThrow(
      "Adam.step: gradients[0].length: expected 2, got 3",
    );
  });
});
