import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bfloat16Bits, bfloat16Value, float16Bits, float16Value } from "./float-formats.js";
import {
  type HfArchitecture,
  HfCheckpointError,
  readCheckpointTensors,
  writeCheckpointTensors,
} from "./hf-checkpoint.js";
import { Embedding, Linear } from "./layers.js";
import { initialize, type ParameterTree } from "./parameters.js";
import { architectureFor, fromPretrained, savePretrained } from "./pretrained.js";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "./safetensors.js";

/** A toy "model type" with a base-model prefix, a head, a tied output and an ignored buffer. */
class Toy {
  readonly modules: { readonly embed: Embedding; readonly head?: Linear };
  constructor(readonly config: { readonly vocab: number; readonly width: number; readonly head: boolean }) {
    const embed = new Embedding(config.vocab, config.width);
    this.modules = config.head ? { embed, head: new Linear(config.width, 3) } : { embed };
  }
  get parameters(): ParameterTree {
    return Object.fromEntries(
      Object.entries(this.modules).map(([name, module]) => [name, module.parameters]),
    );
  }
}

const TOY: HfArchitecture<Toy> = {
  modelTypes: ["toy"],
  prefix: "toy",
  fromConfig: (config) =>
    new Toy({
      vocab: Number(config.vocab_size),
      width: Number(config.hidden_size),
      head:
        config.architectures !== undefined && JSON.stringify(config.architectures) === '["ToyForTagging"]',
    }),
  mapping: (model) => [
    { path: "embed.weight", name: model.config.head ? "toy.embed.weight" : "embed.weight" },
    ...(model.config.head
      ? [
          { path: "head.weight", name: "classifier.weight", transpose: true },
          { path: "head.bias", name: "classifier.bias" },
        ]
      : []),
  ],
  toConfig: (model) => ({
    model_type: "toy",
    architectures: [model.config.head ? "ToyForTagging" : "ToyModel"],
    vocab_size: model.config.vocab,
    hidden_size: model.config.width,
  }),
  tied: (model) => [
    { path: "embed.weight", name: model.config.head ? "toy.decoder.weight" : "decoder.weight" },
  ],
  ignored: () => [/(^|\.)position_ids$/],
};

const directories: string[] = [];
async function directory(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "xlt-nn-"));
  directories.push(path);
  return path;
}
afterAll(async () => {
  for (const path of directories) await rm(path, { recursive: true, force: true });
});

const config = {
  model_type: "toy",
  architectures: ["ToyForTagging"],
  vocab_size: 5,
  hidden_size: 4,
  pad_token_id: 0,
};

async function writeCheckpoint(
  tensors: [string, SafetensorsTensor][],
  extraConfig: object = {},
): Promise<string> {
  const path = await directory();
  await writeFile(join(path, "config.json"), JSON.stringify({ ...config, ...extraConfig }));
  await writeFile(join(path, "model.safetensors"), writeSafetensors(new Map(tensors)));
  return path;
}

const ramp = (shape: number[], start: number) =>
  Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, index) => start + index / 8);
const f32 = (shape: number[], start = 0): SafetensorsTensor => ({
  dtype: "F32",
  shape,
  data: ramp(shape, start),
});

describe("fromPretrained and savePretrained", () => {
  it("maps names, transposes torch's [out, in] and keeps the config's other fields", async () => {
    const path = await writeCheckpoint([
      ["toy.embed.weight", f32([5, 4])],
      ["classifier.weight", f32([3, 4], 10)],
      ["classifier.bias", f32([3], 20)],
    ]);
    const loaded = await fromPretrained(path, { architecture: TOY });
    expect(loaded.model.config).toEqual({ vocab: 5, width: 4, head: true });
    expect(Array.from(loaded.values.get("embed.weight") ?? [])).toEqual(Array.from(f32([5, 4]).data, Number));
    // xlt head.weight[i, o] = HF classifier.weight[o, i]
    const w = loaded.values.get("head.weight") ?? [];
    for (let i = 0; i < 4; i += 1)
      for (let o = 0; o < 3; o += 1) expect(w[i * 3 + o]).toBe(10 + (o * 4 + i) / 8);
    expect(loaded.config.pad_token_id).toBe(0);
    expect(loaded.missing).toEqual([]);
    expect(loaded.unexpected).toEqual([]);
  });

  it("saves the same names, shapes, dtypes and bytes it loaded, F16 and BF16 included", async () => {
    const half = (
      shape: number[],
      bits: (v: number) => number,
      dtype: "F16" | "BF16",
    ): SafetensorsTensor => ({
      dtype,
      shape,
      data: Uint16Array.from(ramp(shape, 0.1), bits),
    });
    const source: [string, SafetensorsTensor][] = [
      ["toy.embed.weight", half([5, 4], float16Bits, "F16")],
      ["classifier.weight", half([3, 4], bfloat16Bits, "BF16")],
      ["classifier.bias", f32([3])],
      ["toy.decoder.weight", half([5, 4], float16Bits, "F16")],
      ["toy.embeddings.position_ids", { dtype: "I64", shape: [1, 2], data: BigInt64Array.of(0n, 1n) }],
    ];
    const path = await writeCheckpoint(source);
    const loaded = await fromPretrained(path, { architecture: TOY });
    expect(loaded.values.get("embed.weight")?.[1]).toBe(float16Value(float16Bits(0.1 + 1 / 8)));
    expect(loaded.values.get("head.weight")?.[0]).toBe(bfloat16Value(bfloat16Bits(0.1)));
    expect([...loaded.extra.keys()]).toEqual(["toy.embeddings.position_ids"]);
    const out = await directory();
    await savePretrained(out, loaded);
    const saved = readSafetensors(await readFile(join(out, "model.safetensors")));
    expect(saved.metadata).toEqual({ format: "pt" });
    expect([...saved.tensors.keys()].sort()).toEqual(source.map(([name]) => name).sort());
    for (const [name, tensor] of source) {
      expect(saved.tensors.get(name)?.dtype).toBe(tensor.dtype);
      expect(saved.tensors.get(name)?.shape).toEqual(tensor.shape);
      expect(saved.tensors.get(name)?.data).toEqual(tensor.data);
    }
    const savedConfig = JSON.parse(await readFile(join(out, "config.json"), "utf8"));
    expect(savedConfig).toEqual(config);
  });

  it("lists missing and unexpected keys in a typed error unless allowed; missing ones keep a fresh initialisation", async () => {
    const path = await writeCheckpoint([
      ["toy.embed.weight", f32([5, 4])],
      ["cls.extra", f32([2])],
    ]);
    const error = await fromPretrained(path, { architecture: TOY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HfCheckpointError);
    expect(error).toMatchObject({
      problem: "keys",
      missing: ["classifier.weight", "classifier.bias"],
      unexpected: ["cls.extra"],
      message: `fromPretrained: ${path}: expected every key the model expects and no other (or allowMissing/allowUnexpected), got missing [classifier.weight, classifier.bias], unexpected [cls.extra]`,
    });
    await expect(
      fromPretrained(path, { architecture: TOY, allowMissing: [/^classifier\./] }),
    ).rejects.toMatchObject({
      missing: [],
      unexpected: ["cls.extra"],
    });
    const loaded = await fromPretrained(path, {
      architecture: TOY,
      allowMissing: [/^classifier\./g], // a g flag must not make matching stateful
      allowUnexpected: [/^cls\./],
      seed: 4,
    });
    expect(loaded.missing).toEqual(["classifier.weight", "classifier.bias"]);
    expect(loaded.unexpected).toEqual(["cls.extra"]);
    expect(loaded.values.get("head.weight")).toEqual(
      initialize(loaded.model.parameters, 4).get("head.weight"),
    );
  });

  it("loads a base checkpoint into a head model and a head checkpoint into the base model (the prefix rule)", async () => {
    const base = await writeCheckpoint([["embed.weight", f32([5, 4])]], { architectures: ["ToyModel"] });
    const intoHead = await fromPretrained(base, {
      architecture: TOY,
      config: { architectures: ["ToyForTagging"] },
      allowMissing: [/^classifier\./],
    });
    expect(intoHead.model.config.head).toBe(true);
    expect(intoHead.values.get("embed.weight")).toEqual(f32([5, 4]).data);
    const head = await writeCheckpoint([
      ["toy.embed.weight", f32([5, 4], 1)],
      ["classifier.weight", f32([3, 4])],
      ["classifier.bias", f32([3])],
    ]);
    const intoBase = await fromPretrained(head, {
      architecture: TOY,
      config: { architectures: ["ToyModel"] },
      allowUnexpected: [/^classifier\./],
    });
    expect(intoBase.values.get("embed.weight")).toEqual(f32([5, 4], 1).data);
    expect(intoBase.unexpected).toEqual(["classifier.bias", "classifier.weight"]);
  });

  it("writes and reads sharded checkpoints with an index", async () => {
    const path = await directory();
    const model = TOY.fromConfig(config);
    const values = initialize(model.parameters, 1);
    await savePretrained(path, { architecture: TOY, model, values, config }, { maxShardBytes: 64 });
    const files = (await readdir(path)).sort();
    expect(files).toEqual([
      "config.json",
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
    ]);
    const index = JSON.parse(await readFile(join(path, "model.safetensors.index.json"), "utf8"));
    expect(index).toEqual({
      metadata: { total_size: (3 + 12 + 20) * 4 },
      weight_map: {
        "classifier.bias": "model-00001-of-00002.safetensors",
        "classifier.weight": "model-00001-of-00002.safetensors",
        "toy.embed.weight": "model-00002-of-00002.safetensors",
      },
    });
    const loaded = await fromPretrained(path, { architecture: TOY });
    for (const [name, value] of values) expect(loaded.values.get(name)).toEqual(value);
    await writeFile(
      join(path, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { ...index.weight_map, "toy.lost": "model-00001-of-00002.safetensors" } }),
    );
    await expect(readCheckpointTensors(path)).rejects.toThrow(
      `readCheckpointTensors: ${join(path, "model.safetensors.index.json")}: toy.lost: expected a tensor in model-00001-of-00002.safetensors, got none`,
    );
    await writeFile(
      join(path, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { a: "../x" } }),
    );
    await expect(readCheckpointTensors(path)).rejects.toThrow(
      `readCheckpointTensors: ${join(path, "model.safetensors.index.json")}: weight_map: expected an object of file names, got {"a":"../x"}`,
    );
  });

  it("writes tied keys only when the source had them, with the current values", async () => {
    const path = await writeCheckpoint([
      ["toy.embed.weight", f32([5, 4])],
      ["classifier.weight", f32([3, 4])],
      ["classifier.bias", f32([3])],
    ]);
    const loaded = await fromPretrained(path, { architecture: TOY });
    const out = await directory();
    await savePretrained(out, loaded);
    expect(
      [...readSafetensors(await readFile(join(out, "model.safetensors"))).tensors.keys()].sort(),
    ).toEqual(["classifier.bias", "classifier.weight", "toy.embed.weight"]);
  });

  it("fails clearly on an unsupported model_type, bad shapes and dtypes, and missing files", async () => {
    const path = await writeCheckpoint([["toy.embed.weight", f32([5, 4])]], { model_type: "gpt-neo" });
    const error = await fromPretrained(path, { architectures: [TOY] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HfCheckpointError);
    expect(error).toMatchObject({
      problem: "unsupported-model-type",
      supported: ["toy"],
      message: 'architectureFor: config.model_type: expected one of toy, got "gpt-neo"',
    });
    expect(() => architectureFor({}, [TOY])).toThrow(
      "architectureFor: config.model_type: expected one of toy, got undefined",
    );
    const shaped = await writeCheckpoint([["toy.embed.weight", f32([4, 5])]], {
      architectures: ["ToyModel"],
    });
    await expect(fromPretrained(shaped, { architecture: TOY })).rejects.toThrow(
      "fromPretrained: toy.embed.weight: expected shape [5,4], got [4,5]",
    );
    const typed = await writeCheckpoint(
      [["embed.weight", { dtype: "I32", shape: [5, 4], data: new Int32Array(20) }]],
      {
        architectures: ["ToyModel"],
      },
    );
    await expect(fromPretrained(typed, { architecture: TOY })).rejects.toMatchObject({
      problem: "dtype",
      message: "fromPretrained: embed.weight: expected a F32, F64, F16 or BF16 tensor, got I32",
    });
    const empty = await directory();
    await expect(fromPretrained(empty, { architecture: TOY })).rejects.toMatchObject({
      problem: "file",
      argument: join(empty, "config.json"),
    });
    await writeFile(join(empty, "config.json"), "[1]");
    await expect(fromPretrained(empty, { architecture: TOY })).rejects.toThrow(
      `fromPretrained: ${join(empty, "config.json")}: expected a JSON object, got an array`,
    );
    await writeFile(join(empty, "config.json"), "{");
    await expect(fromPretrained(empty, { architecture: TOY })).rejects.toMatchObject({
      problem: "file",
      expected: "JSON",
    });
    await writeFile(join(empty, "config.json"), JSON.stringify(config));
    await expect(fromPretrained(empty, { architecture: TOY })).rejects.toThrow(
      `readCheckpointTensors: ${empty}: expected model.safetensors or model.safetensors.index.json, got neither`,
    );
    await writeFile(join(empty, "pytorch_model.bin"), "");
    await expect(fromPretrained(empty, { architecture: TOY })).rejects.toThrow(
      `readCheckpointTensors: ${empty}: expected model.safetensors or model.safetensors.index.json, got only pytorch_model.bin (convert it to safetensors)`,
    );
    const model = TOY.fromConfig(config);
    await expect(savePretrained(empty, { architecture: TOY, model, values: new Map() })).rejects.toThrow(
      "savePretrained: values.embed.weight: expected 20 values, got nothing",
    );
    await expect(writeCheckpointTensors(empty, new Map(), 0)).rejects.toThrow(
      "writeCheckpointTensors: maxShardBytes: expected a number > 0, got 0",
    );
  });

  it("rejects an architecture whose mapping misses or repeats a parameter", async () => {
    const path = await writeCheckpoint([["toy.embed.weight", f32([5, 4])]]);
    const partial: HfArchitecture<Toy> = { ...TOY, mapping: () => [{ path: "embed.weight", name: "e" }] };
    await expect(fromPretrained(path, { architecture: partial })).rejects.toThrow(
      "fromPretrained: mapping: expected every parameter path, got none for head.weight, head.bias",
    );
    const twice: HfArchitecture<Toy> = {
      ...TOY,
      mapping: (model) => [...TOY.mapping(model), { path: "embed.weight", name: "f" }],
    };
    await expect(fromPretrained(path, { architecture: twice })).rejects.toThrow(
      "fromPretrained: mapping f: expected each path once, got embed.weight again",
    );
    const unknown: HfArchitecture<Toy> = { ...TOY, mapping: () => [{ path: "nope", name: "g" }] };
    await expect(fromPretrained(path, { architecture: unknown })).rejects.toThrow(
      "fromPretrained: mapping g: expected a parameter path of the model, got nope",
    );
    const vector: HfArchitecture<Toy> = {
      ...TOY,
      mapping: (model) => TOY.mapping(model).map((entry) => ({ ...entry, transpose: true })),
    };
    await expect(fromPretrained(path, { architecture: vector })).rejects.toThrow(
      "fromPretrained: mapping classifier.bias: expected a matrix to transpose, got [3]",
    );
  });
});
