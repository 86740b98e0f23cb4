import { flatten, initialize } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import { applyLora, loraLayers } from "./lora.js";
import { LoraLinear } from "./lora-linear.js";
import { mergeAndUnload, mergeLora, unmergeLora } from "./merge.js";
import { namedModules } from "./modules.js";
import { dequantizeNf4 } from "./nf4.js";
import { Nf4Linear } from "./nf4-linear.js";
import { applyQlora, nf4Layers } from "./qlora.js";
import { runModel, TinyTagger, TwoLayer, valuesWithB } from "./test-utils/models.js";

const ids = {
  name: "ids",
  dtype: "int64" as const,
  value: { data: BigInt64Array.from([1, 4, 7, 2, 0, 8], BigInt), dims: [2, 3] },
};

function maxDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i += 1) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(b[i])));
  return worst;
}

describe("mergeLora / unmergeLora", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`${dtype}: merged forward equals unmerged forward; W' = W + s·A·B; unmerge restores W`, async () => {
      const model = applyLora(new TinyTagger(9, 6, 3, dtype), {
        targetModules: ["query", "value", "classifier"],
        r: 2,
        alpha: 5,
      });
      const values = valuesWithB(model.parameters, 3);
      const merged = mergeLora(model, values);
      expect(loraLayers(merged.model).every(([, layer]) => layer.merged)).toBe(true);
      const before = await runModel(model, values, ids);
      const after = await runModel(merged.model, merged.values, ids);
      expect(maxDiff(before.output.data, after.output.data)).toBeLessThan(dtype === "float64" ? 1e-12 : 2e-6);
      // W' = W + (alpha/r)·A·B by hand for one entry.
      const [a, b, w, w2] = ["lora_A", "lora_B", "weight"]
        .map((name) => values.get(`attention.query.${name}`) as Float64Array)
        .concat([merged.values.get("attention.query.weight") as Float64Array]);
      const expected =
        (w?.[1 * 6 + 4] ?? 0) +
        2.5 * ((a?.[1 * 2] ?? 0) * (b?.[4] ?? 0) + (a?.[1 * 2 + 1] ?? 0) * (b?.[6 + 4] ?? 0));
      expect(Math.abs((w2?.[1 * 6 + 4] ?? 0) - expected)).toBeLessThan(dtype === "float64" ? 1e-15 : 1e-7);
      // Merging twice changes nothing; unmerge restores the weights to within one rounding.
      expect(mergeLora(merged.model, merged.values).values.get("attention.query.weight")).toEqual(w2);
      const restored = unmergeLora(merged.model, merged.values);
      expect(loraLayers(restored.model).every(([, layer]) => !layer.merged)).toBe(true);
      for (const path of ["attention.query.weight", "attention.value.weight", "classifier.weight"]) {
        const original = values.get(path) as Float64Array;
        const mergedWeight = merged.values.get(path) as Float64Array;
        const back = restored.values.get(path) as Float64Array;
        original.forEach((v, i) => {
          const ulp = dtype === "float64" ? 2 ** -52 : 2 ** -23;
          expect(Math.abs((back[i] as number) - v)).toBeLessThanOrEqual(
            ulp * Math.max(Math.abs(v), Math.abs(mergedWeight[i] as number)) * (dtype === "float64" ? 4 : 1),
          );
        });
      }
      // Flags survive: the base weights stay frozen in the merged model.
      expect(
        flatten(merged.model.parameters)
          .filter(([, p]) => p.trainable)
          .map(([path]) => path),
      ).toEqual(
        flatten(model.parameters)
          .filter(([, p]) => p.trainable)
          .map(([path]) => path),
      );
    });
  }

  it("mergeAndUnload gives the base model with merged weights and no LoRA values", async () => {
    const model = applyLora(new TwoLayer([5, 4, 3]), {
      targetModules: ["first"],
      r: 2,
      alpha: 4,
      bias: "lora_only",
    });
    const values = valuesWithB(model.parameters, 4);
    const unloaded = mergeAndUnload(model, values);
    expect(namedModules(unloaded.model).some(([, module]) => module instanceof LoraLinear)).toBe(false);
    expect([...unloaded.values.keys()].sort()).toEqual([
      "first.bias",
      "first.weight",
      "second.bias",
      "second.weight",
    ]);
    expect(flatten(unloaded.model.parameters).map(([path, p]) => [path, p.trainable])).toEqual([
      ["first.weight", false],
      ["first.bias", true],
      ["second.weight", false],
      ["second.bias", false],
    ]);
    const x = {
      name: "x",
      dtype: "float64" as const,
      value: { data: Float64Array.from([1, -2, 0.5, 3, 0.25]), dims: [1, 5] },
    };
    const before = await runModel(model, values, x);
    const after = await runModel(unloaded.model, unloaded.values, x);
    expect(maxDiff(before.output.data, after.output.data)).toBeLessThan(1e-12);
  });

  it("mergeAndUnload re-quantises QLoRA layers: quantise(dequantise(W) + s·A·B)", async () => {
    const model = new TwoLayer([64, 4, 2], "float32");
    const q = applyQlora(model, initialize(model.parameters, 1), {
      targetModules: ["first"],
      quantizeModules: ["first"],
      r: 2,
      alpha: 2,
    });
    const values = valuesWithB(q.model.parameters, 2);
    for (const [path, data] of q.values) values.set(path, data);
    const unloaded = mergeAndUnload(q.model, values);
    const layers = nf4Layers(unloaded.model);
    expect(layers).toHaveLength(1);
    expect(namedModules(unloaded.model).find(([path]) => path === "first")?.[1]).toBeInstanceOf(Nf4Linear);
    // Within NF4's error of the merged float weight.
    const old = dequantizeNf4((nf4Layers(q.model)[0] as Nf4Linear).weight);
    const next = dequantizeNf4((layers[0] as Nf4Linear).weight);
    const a = values.get("first.lora_A") as Float32Array;
    const b = values.get("first.lora_B") as Float32Array;
    let worst = 0;
    for (let o = 0; o < 4; o += 1)
      for (let i = 0; i < 64; i += 1) {
        const target =
          (old[o * 64 + i] as number) +
          (a[i * 2] as number) * (b[o] as number) +
          (a[i * 2 + 1] as number) * (b[4 + o] as number);
        worst = Math.max(worst, Math.abs(target - (next[o * 64 + i] as number)));
      }
    expect(worst).toBeLessThan(0.2 * Math.max(...next.map(Math.abs)));
    expect(() => mergeLora(q.model, values)).toThrowError(
      new PeftError(
        "mergeLora",
        'model (module "first")',
        "a LoRA layer over a float Linear",
        "an Nf4Linear base (use mergeAndUnload)",
      ),
    );
  });

  it("errors name the missing value", () => {
    const model = applyLora(new TwoLayer([5, 4, 3]), { targetModules: ["first"] });
    const values = initialize(model.parameters, 0);
    values.delete("first.lora_B");
    expect(() => mergeLora(model, values)).toThrowError(
      "mergeLora: values.first.lora_B: expected 32 values, got nothing",
    );
    values.set("first.lora_B", new Float64Array(3));
    expect(() => unmergeLora(mergeLora(model, initialize(model.parameters, 0)).model, values)).toThrowError(
      "unmergeLora: values.first.lora_B: expected 32 values, got 3",
    );
  });
});
