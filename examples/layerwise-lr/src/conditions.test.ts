import { Parameter, zeros } from "@xlt/nn";
import { assignGroups, sample } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { CONDITIONS, conditionGroups, conditionSchedule, conditionSetup, type Layer } from "./conditions.js";

/** The layer list `EncoderModel.layerGroups()` of `@xlt/nn` gives for `layers` encoder layers. */
function encoderLayers(layers: number): Layer[] {
  return [
    { name: "embeddings", match: /^encoder\.embeddings\./ },
    ...Array.from({ length: layers }, (_, index) => ({
      name: `layer${index}`,
      match: new RegExp(`^encoder\\.layers\\.layer${index}\\.`),
    })),
    { name: "head", match: /^(?!encoder\.)/ },
  ];
}

const paths = (layers: number) => [
  "encoder.embeddings.word.weight",
  "encoder.embeddings.norm.bias",
  ...Array.from({ length: layers }, (_, index) => [
    `encoder.layers.layer${index}.attention.query.weight`,
    `encoder.layers.layer${index}.output.bias`,
  ]).flat(),
  "head.classifier.weight",
  "head.classifier.bias",
];

/** The learning rate each parameter path gets. */
function rates(condition: (typeof CONDITIONS)[number], layers: number, blocks: number): Map<string, number> {
  const groups = conditionGroups(condition, encoderLayers(layers), { lr: 1e-3, factor: 0.7, blocks });
  const assigned = assignGroups(
    paths(layers).map((path) => [path, new Parameter([1], { init: zeros })] as const),
    groups,
  );
  return new Map([...assigned].map(([path, group]) => [path, group.lr]));
}

describe("conditions", () => {
  it("name what they change", () => {
    expect(CONDITIONS.map(conditionSetup)).toEqual([
      { discriminative: false, schedule: "linear" },
      { discriminative: true, schedule: "linear" },
      { discriminative: false, schedule: "cosine" },
      { discriminative: true, schedule: "cosine" },
    ]);
    expect(() => conditionSetup("slanted" as (typeof CONDITIONS)[number])).toThrow(
      'conditionSetup: condition: expected one of baseline, discriminative, cosine, discriminative+cosine, got "slanted"',
    );
  });

  it("give every parameter lr · 0.7^depth: head 0, blocks of layers below it, embeddings lowest", () => {
    const lr = rates("discriminative", 4, 4);
    const expected = (depth: number) => 1e-3 * 0.7 ** depth;
    expect(lr.get("head.classifier.weight")).toBeCloseTo(expected(0), 15);
    expect(lr.get("head.classifier.bias")).toBeCloseTo(expected(0), 15);
    for (let layer = 0; layer < 4; layer += 1) {
      expect(lr.get(`encoder.layers.layer${layer}.attention.query.weight`)).toBeCloseTo(
        expected(4 - layer),
        15,
      );
      expect(lr.get(`encoder.layers.layer${layer}.output.bias`)).toBeCloseTo(expected(4 - layer), 15);
    }
    expect(lr.get("encoder.embeddings.word.weight")).toBeCloseTo(expected(5), 15);
    expect(lr.get("encoder.embeddings.norm.bias")).toBeCloseTo(expected(5), 15);
  });

  it("group 12 layers into 4 blocks of 3 (the study's layout) and 5 layers into blocks of 1, 1, 1, 2", () => {
    const twelve = rates("discriminative+cosine", 12, 4);
    for (let layer = 0; layer < 12; layer += 1)
      expect(twelve.get(`encoder.layers.layer${layer}.output.bias`)).toBeCloseTo(
        1e-3 * 0.7 ** (4 - Math.floor(layer / 3)),
        15,
      );
    const five = rates("discriminative", 5, 4);
    const depths = [4, 3, 2, 1, 1];
    for (const [layer, depth] of depths.entries())
      expect(five.get(`encoder.layers.layer${layer}.output.bias`)).toBeCloseTo(1e-3 * 0.7 ** depth, 15);
  });

  it("baseline and cosine train everything at one rate", () => {
    for (const condition of ["baseline", "cosine"] as const)
      expect(new Set(rates(condition, 4, 4).values())).toEqual(new Set([1e-3]));
  });

  it("reject a layer list without embeddings and head, and too many blocks", () => {
    const layers = encoderLayers(2);
    expect(() =>
      conditionGroups("discriminative", layers.slice(1), { lr: 1, factor: 0.7, blocks: 1 }),
    ).toThrow(
      "conditionGroups: layers: expected embeddings, the encoder layers, then head, got layer0, layer1, head",
    );
    expect(() => conditionGroups("discriminative", layers, { lr: 1, factor: 0.7, blocks: 3 })).toThrow(
      "conditionGroups: options.blocks: expected an integer in [1, 2], got 3",
    );
  });

  it("schedules: 10% warmup, then linear decay or a cosine", () => {
    expect(sample(conditionSchedule("baseline", 20), 21)).toEqual([
      0,
      0.5,
      ...Array.from({ length: 19 }, (_, k) => (18 - k) / 18),
    ]);
    const cosine = sample(conditionSchedule("cosine", 20), 21);
    expect(cosine.slice(0, 3)).toEqual([0, 0.5, 1]);
    expect(cosine[11]).toBeCloseTo(0.5, 12);
    expect(cosine[20]).toBe(0);
  });
});
