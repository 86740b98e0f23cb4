import { describe, expect, it } from "vitest";
import { NnError } from "./errors.js";
import { constant, normal, uniform } from "./init.js";
import { Embedding, LayerNorm, Linear } from "./layers.js";
import { writeSafetensors } from "./safetensors.js";

describe("NnError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new NnError("Linear", "inFeatures", "a positive integer", "0");
    expect(error.message).toBe("Linear: inFeatures: expected a positive integer, got 0");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("NnError");
  });

  it("every remaining message", () => {
    expect(() => constant(Number.NaN)).toThrow("constant: value: expected a finite number, got NaN");
    expect(() => uniform(Number.POSITIVE_INFINITY, 1)).toThrow(
      "uniform: low: expected a finite number, got Infinity",
    );
    expect(() => normal(1, Number.NaN)).toThrow("normal: mean: expected a finite number, got NaN");
    expect(() => new Linear(2, 0)).toThrow("Linear: outFeatures: expected a positive integer, got 0");
    expect(() => new Embedding(0, 2)).toThrow("Embedding: count: expected a positive integer, got 0");
    expect(() => new Embedding(2, 1.5)).toThrow("Embedding: dim: expected a positive integer, got 1.5");
    expect(() => new LayerNorm(-1)).toThrow("LayerNorm: dim: expected a positive integer, got -1");
    expect(() =>
      writeSafetensors(new Map([["__metadata__", { dtype: "F32", shape: [1], data: Float32Array.of(1) }]])),
    ).toThrow("writeSafetensors: name: expected a tensor name other than __metadata__, got __metadata__");
  });
});
