import { Graph } from "@xlt/graph";
import { initialize, writeSafetensors } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import { applyLora } from "./lora.js";
import { LoraLinear } from "./lora-linear.js";
import { mergeLora } from "./merge.js";
import { quantizeNf4 } from "./nf4.js";
import { dequantizeInGraph } from "./nf4-graph.js";
import { readPeftWeights, toPeftAdapter } from "./peft-format.js";
import { applyQlora } from "./qlora.js";
import { TwoLayer } from "./test-utils/models.js";

describe("PeftError", () => {
  it("names the function and argument and says expected vs got", () => {
    const error = new PeftError("applyLora", "r", "a positive integer", "0");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("PeftError");
    expect([error.fn, error.argument, error.expected, error.got]).toEqual([
      "applyLora",
      "r",
      "a positive integer",
      "0",
    ]);
    expect(error.message).toBe("applyLora: r: expected a positive integer, got 0");
  });
});

describe("remaining error messages", () => {
  const model = new TwoLayer([4, 3, 2]);

  it("LoraLinear needs a Linear or Nf4Linear base", () => {
    // @ts-expect-error: not a linear layer on purpose
    expect(() => new LoraLinear({ parameters: {}, forward: () => null }, { rank: 1, alpha: 1 })).toThrowError(
      "LoraLinear: base: expected a Linear or Nf4Linear, got object",
    );
  });

  it("dequantizeInGraph needs absmax or double-quantised statistics", () => {
    const { absmax: _absmax, ...bare } = quantizeNf4([1, 2], [2]);
    const graph = new Graph();
    expect(() => dequantizeInGraph(bare, graph.input("x", "float32", [1]))).toThrowError(
      "dequantizeInGraph: tensor: expected absmax or doubleQuant, got neither",
    );
    expect(() => dequantizeInGraph(quantizeNf4([1, 2], [2]), graph.input("ids", "int64", [1]))).toThrowError(
      "dequantizeInGraph: anchor: expected a float32 or float64 tensor, got int64",
    );
  });

  it("applyQlora and mergeLora check value sizes; toPeftAdapter too", () => {
    const values = initialize(model.parameters, 0);
    values.set("first.weight", new Float64Array(5));
    expect(() => applyQlora(model, values, { targetModules: ["first"] })).toThrowError(
      "applyQlora: values.first.weight: expected 12 values, got 5",
    );
    const lora = applyLora(model, { targetModules: ["first"], r: 1 });
    const loraValues = initialize(lora.parameters, 0);
    loraValues.set("first.weight", new Float64Array(2));
    expect(() => mergeLora(lora, loraValues)).toThrowError(
      "mergeLora: values.first.weight: expected 12 values, got 2",
    );
    loraValues.set("first.lora_A", new Float64Array(1));
    expect(() => toPeftAdapter(lora, loraValues, { targetModules: ["first"], r: 1 })).toThrowError(
      "toPeftAdapter: values.first.lora_A: expected 4 values, got 1",
    );
  });

  it("readPeftWeights accepts only float tensors", () => {
    const lora = applyLora(model, { targetModules: ["first"], r: 1 });
    const weights = writeSafetensors(
      new Map([
        [
          "base_model.model.first.lora_A.weight",
          { dtype: "I32" as const, shape: [1, 4], data: new Int32Array(4) },
        ],
      ]),
    );
    expect(() => readPeftWeights(lora, { targetModules: ["first"], r: 1 }, weights)).toThrowError(
      "readPeftWeights: adapter_model.safetensors: base_model.model.first.lora_A.weight: expected F32, F64, F16 or BF16, got I32",
    );
  });
});
