import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { evaluate, Graph, grad, mul, reduceSum, type Tensor, type TensorValue } from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { encoderArchitecture } from "./bert.js";
import type { EncoderFamily } from "./encoder-model.js";
import { readCheckpointTensors } from "./hf-checkpoint.js";
import { bind, flatten } from "./parameters.js";
import { fromPretrained, savePretrained } from "./pretrained.js";
import { readSafetensors, type SafetensorsTensor } from "./safetensors.js";

const folder = (name: string) => fileURLToPath(new URL(`../fixtures/encoders/${name}/`, import.meta.url));

function expectedOf(name: string): ReadonlyMap<string, SafetensorsTensor> {
  return readSafetensors(readFileSync(`${folder(name)}expected.safetensors`)).tensors;
}

function value(map: ReadonlyMap<string, SafetensorsTensor>, name: string): TensorValue {
  const tensor = map.get(name);
  if (!tensor || (tensor.dtype !== "F64" && tensor.dtype !== "I64")) throw new Error(`fixture lacks ${name}`);
  return { data: tensor.data, dims: tensor.shape };
}

const single = ({ data, dims }: TensorValue): TensorValue => ({
  data: Float32Array.from(data, Number),
  dims,
});

/** Largest |actual - expected| / (1 + |expected|). */
function worst(actual: ArrayLike<number | bigint>, expected: ArrayLike<number | bigint>): number {
  expect(actual.length).toBe(expected.length);
  let error = 0;
  for (let index = 0; index < expected.length; index += 1) {
    const want = Number(expected[index]);
    error = Math.max(error, Math.abs(Number(actual[index]) - want) / (1 + Math.abs(want)));
  }
  return error;
}

const FIXTURES: [name: string, family: EncoderFamily, head: string][] = [
  ["bert-mlm", "bert", "masked-lm"],
  ["bert-seq", "bert", "sequence-classification"],
  ["roberta-token", "roberta", "token-classification"],
  ["roberta-mlm", "roberta", "masked-lm"],
  ["xlmr-seq", "xlm-roberta", "sequence-classification"],
  ["distilbert-mlm", "distilbert", "masked-lm"],
  ["distilbert-seq", "distilbert", "sequence-classification"],
];

describe("encoders against the torch oracle (fixtures/make_encoders.py)", () => {
  const cases = [
    ...FIXTURES.map(([name, family, head]) => [name, family, head, "float64", 1e-10] as const),
    // float32 (onnxruntime's own Erf, fused score scaling) on the two exact-gelu masked LMs
    ...FIXTURES.filter(([name]) => name.endsWith("-mlm")).map(
      ([name, family, head]) => [name, family, head, "float32", 5e-4] as const,
    ),
  ];
  for (const [name, family, head, dtype, tolerance] of cases) {
    it(`${name}: logits, every hidden state and every parameter gradient match float64 torch in ${dtype}`, async () => {
      const architecture = encoderArchitecture(family, { dtype });
      const loaded = await fromPretrained(folder(name), { architecture });
      expect(loaded.model.config.head).toBe(head);
      expect(loaded.missing).toEqual([]);
      const expected = expectedOf(name);
      const graph = new Graph();
      const leaves = new Map<string, Tensor>();
      const params = bind(loaded.model.parameters, (path, parameter) => {
        const tensor = graph.input(path, parameter.dtype, parameter.shape);
        leaves.set(path, tensor);
        return tensor;
      });
      const ids = graph.input("ids", "int64", ["batch", "steps"]);
      const mask = graph.input("mask", "int64", ["batch", "steps"]);
      const tokenTypes = graph.input("types", "int64", ["batch", "steps"]);
      const out = loaded.model.forward(params, { ids, mask, tokenTypes }, { training: false });
      const logits = out.logits as Tensor;
      const weights = graph.input("weights", dtype, logits.shape);
      const loss = reduceSum(mul(logits, weights));
      const paths = [...leaves.keys()];
      const grads = grad(
        loss,
        paths.map((path) => leaves.get(path) as Tensor),
      );
      const feeds: Record<string, TensorValue> = {
        ids: value(expected, "input_ids"),
        mask: value(expected, "attention_mask"),
        types: value(expected, "token_type_ids"),
        weights:
          dtype === "float64" ? value(expected, "loss_weights") : single(value(expected, "loss_weights")),
      };
      for (const [path, data] of loaded.values)
        feeds[path] = { data, dims: [...(leaves.get(path)?.shape ?? [])] as number[] };
      const outputs: Record<string, Tensor> = { logits, loss };
      for (const [index, state] of out.hiddenStates.entries()) outputs[`hidden_states.${index}`] = state;
      for (const [index, path] of paths.entries()) outputs[`grad:${path}`] = grads[index] as Tensor;
      const result = await evaluate(outputs, feeds);
      const errors: Record<string, number> = {};
      errors.logits = worst(result.logits?.data ?? [], value(expected, "logits").data);
      errors.loss = worst(result.loss?.data ?? [], value(expected, "loss").data);
      expect(out.hiddenStates.length).toBe(3);
      for (let index = 0; index < 3; index += 1)
        errors[`hidden_states.${index}`] = worst(
          result[`hidden_states.${index}`]?.data ?? [],
          value(expected, `hidden_states.${index}`).data,
        );
      const mapping = architecture.mapping(loaded.model);
      expect(mapping.length).toBe(flatten(loaded.model.parameters).length);
      for (const { path, name: hfName, transpose } of mapping) {
        const want = value(expected, `grad.${hfName}`);
        const got = result[`grad:${path}`]?.data ?? [];
        const [rows = 1, columns = 1] = want.dims;
        // xlt [in, out] against torch [out, in]
        const aligned = transpose
          ? Float64Array.from({ length: got.length }, (_, index) =>
              Number(got[(index % columns) * rows + Math.floor(index / columns)]),
            )
          : got;
        errors[`grad.${hfName}`] = worst(aligned, want.data);
      }
      const largest = Math.max(...Object.values(errors));
      expect(largest, JSON.stringify(errors)).toBeLessThan(tolerance);
    });
  }
});

describe("encoder fixtures saved back by xlt", () => {
  for (const [name, family] of FIXTURES) {
    it(`${name}: the same tensors (names, dtypes, shapes, bytes) and the same config.json`, async () => {
      const architecture = encoderArchitecture(family);
      const loaded = await fromPretrained(folder(name), { architecture });
      const out = await mkdtemp(join(tmpdir(), "xlt-encoder-fixture-"));
      try {
        await savePretrained(out, loaded);
        const [source, saved] = [await readCheckpointTensors(folder(name)), await readCheckpointTensors(out)];
        expect([...saved.keys()].sort()).toEqual([...source.keys()].sort());
        for (const [key, tensor] of source) {
          const copy = saved.get(key);
          expect([copy?.dtype, copy?.shape], key).toEqual([tensor.dtype, tensor.shape]);
          expect(copy?.data, key).toEqual(tensor.data);
        }
        const config = (path: string) => readFile(join(path, "config.json"), "utf8").then(JSON.parse);
        expect(await config(out)).toEqual(await config(folder(name)));
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }
});
