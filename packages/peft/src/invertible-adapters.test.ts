import { evaluate, Graph, type Tensor } from "@xlt/graph";
import { bind, type EncoderHead, EncoderModel, flatten, initialize } from "@xlt/nn";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AdapterNonLinearity } from "./bottleneck.js";
import { applyEncoderAdapters, SEQ_BN } from "./encoder-adapters.js";
import { PeftError } from "./errors.js";
import { applyInvertibleAdapter, InvertibleAdapterModel, NiceCouplingBlock } from "./invertible-adapters.js";
import { runEncoder, tinyBert } from "./test-utils/encoders.js";

/** `inverse(forward(x))` and `forward(x)` for a block with weights of order one. */
async function roundTrip(
  hidden: number,
  reductionFactor: number,
  nonLinearity: AdapterNonLinearity,
  dtype: "float32" | "float64",
  seed: number,
) {
  const block = new NiceCouplingBlock(hidden, reductionFactor, nonLinearity, dtype);
  const values = initialize(block.parameters, seed);
  for (const data of values.values())
    for (let i = 0; i < data.length; i += 1) data[i] = 40 * (data[i] as number) + 0.1 * Math.sin(i + seed);
  const graph = new Graph();
  const params = bind(block.parameters, (path, parameter) =>
    graph.input(path, parameter.dtype, parameter.shape),
  );
  const x = graph.input("x", dtype, [2, 3, hidden]);
  const y = block.forward(params, x);
  const back = block.inverse(params, y);
  const size = 6 * hidden;
  const cosines = Float64Array.from({ length: size }, (_, i) => Math.cos(1.7 * i + seed));
  const data = dtype === "float64" ? cosines : Float32Array.from(cosines);
  const feeds = Object.fromEntries(
    flatten(block.parameters).map(([path, parameter]) => [
      path,
      { data: values.get(path) as Float64Array | Float32Array, dims: [...parameter.shape] },
    ]),
  );
  const out = await evaluate({ y, back }, { ...feeds, x: { data, dims: [2, 3, hidden] } });
  let moved = 0;
  let error = 0;
  for (let i = 0; i < size; i += 1) {
    moved = Math.max(moved, Math.abs(Number(out.y?.data[i]) - (data[i] as number)));
    error = Math.max(error, Math.abs(Number(out.back?.data[i]) - (data[i] as number)));
  }
  return { moved, error };
}

describe("NICE coupling block (AdapterHub's NICECouplingBlock)", () => {
  it("inverse(forward(x)) = x to rounding: float64 below 1e-12, float32 below 1e-5, odd widths too", async () => {
    const wide = await roundTrip(8, 2, "relu", "float64", 1);
    expect(wide.moved).toBeGreaterThan(0.1);
    expect(wide.error).toBeLessThan(1e-12);
    const single = await roundTrip(7, 1, "tanh", "float32", 2);
    expect(single.moved).toBeGreaterThan(0.1);
    expect(single.error).toBeLessThan(1e-5);
  });

  it("round trip for random widths, reduction factors and non-linearities (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4, max: 11 }),
        fc.constantFrom(1, 2),
        fc.constantFrom<AdapterNonLinearity>("relu", "gelu", "swish", "tanh"),
        fc.integer({ min: 0, max: 1000 }),
        async (hidden, factor, nonLinearity, seed) => {
          const { error } = await roundTrip(hidden, factor, nonLinearity, "float64", seed);
          expect(error).toBeLessThan(1e-11);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("splits at ⌊hidden/2⌋: F maps the second part to the first, G the first to the second", () => {
    const block = new NiceCouplingBlock(9, 2, "relu", "float64");
    expect(block.splits).toEqual([4, 5]);
    const shapes = Object.fromEntries(flatten(block.parameters).map(([path, p]) => [path, p.shape]));
    expect(shapes).toEqual({
      "F.down.weight": [5, 2],
      "F.down.bias": [2],
      "F.up.weight": [2, 4],
      "F.up.bias": [4],
      "G.down.weight": [4, 2],
      "G.down.bias": [2],
      "G.up.weight": [2, 5],
      "G.up.bias": [5],
    });
  });
});

describe("applyInvertibleAdapter", () => {
  it("with F and G's up-projections at zero the adapted model equals the base model, for every head", async () => {
    for (const head of ["base", "masked-lm", "token-classification"] satisfies EncoderHead[]) {
      const base = new EncoderModel(tinyBert(head), { dtype: "float64" });
      const model = applyInvertibleAdapter(base);
      const values = initialize(model.parameters, 4);
      for (const [path, data] of values) if (path.includes(".up.")) data.fill(0);
      if (head === "base") {
        const graph = new Graph();
        const leaves = new Map<string, Tensor>();
        const params = bind(model.parameters, (path, p) => {
          const tensor = graph.input(path, p.dtype, p.shape);
          leaves.set(path, tensor);
          return tensor;
        });
        const baseParams = bind(base.parameters, (path) => leaves.get(path) as Tensor);
        const ids = graph.constant(BigInt64Array.from([1, 2, 3], BigInt), [1, 3]);
        const pooled = model.forward(params, { ids }, { training: false }).pooled;
        const reference = base.forward(baseParams, { ids }, { training: false }).pooled;
        if (!pooled || !reference) throw new Error("no pooled output");
        const feeds = Object.fromEntries(
          flatten(model.parameters).map(([path, p]) => [
            path,
            { data: values.get(path) as Float64Array, dims: [...p.shape] },
          ]),
        );
        const out = await evaluate({ pooled, reference }, feeds);
        expect([...(out.pooled?.data ?? [])]).toEqual([...(out.reference?.data ?? [])]);
      } else {
        const a = await runEncoder(model, values);
        const b = await runEncoder(base, values);
        expect([...a.logits.data]).toEqual([...b.logits.data]);
      }
    }
  });

  it("trains only the block (or keeps what trained), under encoder.embeddings.invertible", () => {
    const base = new EncoderModel(tinyBert("masked-lm"), { dtype: "float64" });
    const model = applyInvertibleAdapter(base, { reductionFactor: 4, nonLinearity: "gelu" });
    expect(model).toBeInstanceOf(InvertibleAdapterModel);
    expect(
      model
        .layerGroups()
        .map(({ name, match }) => [name, match.test("encoder.embeddings.invertible.F.up.bias")]),
    ).toEqual([
      ["embeddings", true],
      ["layer0", false],
      ["layer1", false],
      ["head", false],
    ]);
    const trainable = flatten(model.parameters).filter(([, p]) => p.trainable);
    expect(trainable.map(([path]) => path)).toEqual(
      ["F", "G"].flatMap((net) =>
        ["down.weight", "down.bias", "up.weight", "up.bias"].map(
          (name) => `encoder.embeddings.invertible.${net}.${name}`,
        ),
      ),
    );
    expect(trainable.find(([path]) => path.endsWith("F.down.weight"))?.[1].shape).toEqual([4, 1]);
    const adapted = applyEncoderAdapters(base, { ...SEQ_BN, name: "lang" });
    const both = applyInvertibleAdapter(adapted, {}, { keepTrainable: true });
    expect(flatten(both.parameters).filter(([, p]) => p.trainable)).toHaveLength(2 * 4 + 8);
  });

  it("errors name the argument", () => {
    const base = new EncoderModel(tinyBert("masked-lm"), { dtype: "float64" });
    expect(() => applyInvertibleAdapter(base, { block: "glow" as "nice" })).toThrow(
      new PeftError("applyInvertibleAdapter", "block", '"nice"', '"glow"'),
    );
    expect(() => applyInvertibleAdapter(base, { nonLinearity: "elu" as "relu" })).toThrow(
      'applyInvertibleAdapter: nonLinearity: expected one of relu, gelu, gelu_new, swish, silu, tanh, got "elu"',
    );
    expect(() => applyInvertibleAdapter(base, { reductionFactor: 8 })).toThrow(
      "applyInvertibleAdapter: reductionFactor: expected a number > 0 that leaves F and G at least one unit (hidden/2 = 4), got 8",
    );
    expect(() => applyInvertibleAdapter(base, { reductionFactor: -1 })).toThrow("got -1");
    expect(
      () =>
        new InvertibleAdapterModel(
          { ...tinyBert("masked-lm"), headActivation: "elu" as "gelu" },
          base.modules,
        ),
    ).toThrow(
      'InvertibleAdapterModel: config.headActivation: expected one of gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, tanh, got "elu"',
    );
    expect(() => applyInvertibleAdapter(applyInvertibleAdapter(base))).toThrow(
      "applyInvertibleAdapter: model: expected an encoder whose embeddings are @xlt/nn's EncoderEmbeddings (one invertible adapter per model), got InvertibleEmbeddings",
    );
  });
});
