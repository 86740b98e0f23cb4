import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { evaluate, Graph, grad, type Tensor, type TensorValue } from "@xlt/graph";
import { expect } from "vitest";
import { type CausalLm, causalLmLabels, causalLmLoss } from "../decoder.js";
import type { HfArchitecture, HfTensorMapping } from "../hf-checkpoint.js";
import { bind, flatten, type ParameterDType } from "../parameters.js";
import { fromPretrained, savePretrained } from "../pretrained.js";
import { readSafetensors, type SafetensorsTensor } from "../safetensors.js";

/** A fixture written by fixtures/make_decoders.py. */
export interface DecoderFixture {
  readonly config: Record<string, unknown>;
  readonly weights: ReadonlyMap<string, SafetensorsTensor>;
  readonly expected: ReadonlyMap<string, SafetensorsTensor>;
}

const folder = (name: string) => new URL(`../../fixtures/decoders/${name}/`, import.meta.url);

/** The fixture's checkpoint directory. */
export const fixtureDirectory = (name: string): string => fileURLToPath(folder(name));

export function loadFixture(name: string): DecoderFixture {
  return {
    config: JSON.parse(readFileSync(new URL("config.json", folder(name)), "utf8")),
    weights: readSafetensors(readFileSync(new URL("model.safetensors", folder(name)))).tensors,
    expected: readSafetensors(readFileSync(new URL("expected.safetensors", folder(name)))).tensors,
  };
}

export function tensorOf(map: ReadonlyMap<string, SafetensorsTensor>, name: string): SafetensorsTensor {
  const tensor = map.get(name);
  if (!tensor) throw new Error(`fixture has no tensor ${name}`);
  return tensor;
}

/** A fixture tensor as `{ data, dims }`. */
export function fixtureValue(map: ReadonlyMap<string, SafetensorsTensor>, name: string): TensorValue {
  const tensor = tensorOf(map, name);
  if (tensor.dtype !== "I64" && tensor.dtype !== "F64")
    throw new Error(`fixture tensor ${name} is ${tensor.dtype}`);
  return { data: tensor.data, dims: tensor.shape };
}

/** `[rows, cols]` row-major data transposed. */
export function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r += 1)
    for (let c = 0; c < cols; c += 1) out[c * rows + r] = Number(data[r * cols + c]);
  return out;
}

/** Parameter values by path, from the checkpoint through the name mapping. */
export function parameterValues(
  fixture: DecoderFixture,
  names: readonly HfTensorMapping[],
): Map<string, Float64Array> {
  const values = new Map<string, Float64Array>();
  for (const { path, name, transpose } of names) {
    const tensor = tensorOf(fixture.weights, name);
    const data = Array.from(tensor.data, Number);
    const [rows = 1, cols = 1] = tensor.shape;
    values.set(path, transpose ? transpose2d(data, rows, cols) : Float64Array.from(data));
  }
  return values;
}

export const numbers = (value: { data: ArrayLike<number | bigint> } | undefined): number[] =>
  Array.from({ length: value?.data.length ?? 0 }, (_, i) => Number(value?.data[i]));

export interface DecoderRun {
  readonly outputs: Record<string, TensorValue>;
  readonly layers: number;
}

/**
 * Runs `model` on the fixture's inputs with the fixture's weights (as graph inputs of `dtype`):
 * logits, hidden states, the causal-LM loss parts and (optionally) every parameter's gradient.
 */
export async function runDecoder(
  model: CausalLm,
  fixture: DecoderFixture,
  names: readonly HfTensorMapping[],
  dtype: ParameterDType,
  options: {
    readonly gradients?: boolean;
    readonly ids?: TensorValue;
    readonly mask?: TensorValue;
    /** Run in training mode (dropout on) with this dropout key. */
    readonly key?: number;
    /** Parameter values by path (default: the fixture's checkpoint through `names`). */
    readonly values?: ReadonlyMap<string, Float32Array | Float64Array>;
  } = {},
): Promise<DecoderRun> {
  const graph = new Graph();
  const params = bind(model.parameters, (path, parameter) => graph.input(path, dtype, parameter.shape));
  const ids = graph.input("ids", "int64", ["batch", "steps"]);
  const mask = graph.input("mask", "int64", ["batch", "steps"]);
  const key = options.key === undefined ? undefined : graph.input("key", "int64", []);
  const context = key ? { training: true, key } : { training: false };
  const { logits, hiddenStates } = model.forward(params, { ids, mask }, context);
  const { loss, nll, count } = causalLmLoss(logits, causalLmLabels(ids, mask));
  const outputs: Record<string, Tensor> = { logits, loss, nll, count };
  hiddenStates.forEach((state, index) => {
    outputs[`hidden${index}`] = state;
  });
  const entries = flatten(model.parameters);
  if (options.gradients) {
    const wrt = entries.map(([path]) => graph.inputs.find((input) => input.name === path) as Tensor);
    grad(loss, wrt).forEach((g, index) => {
      outputs[`grad${index}`] = g;
    });
  }
  const values = options.values ?? parameterValues(fixture, names);
  const feeds: Record<string, TensorValue> = {
    ids: options.ids ?? fixtureValue(fixture.expected, "input_ids"),
    mask: options.mask ?? fixtureValue(fixture.expected, "attention_mask"),
  };
  if (options.key !== undefined) feeds.key = { data: BigInt64Array.of(BigInt(options.key)), dims: [] };
  for (const [path, parameter] of entries) {
    const value = values.get(path) as Float32Array | Float64Array;
    feeds[path] = {
      data: dtype === "float64" ? Float64Array.from(value) : Float32Array.from(value),
      dims: parameter.shape,
    };
  }
  return { outputs: await evaluate(outputs, feeds), layers: hiddenStates.length - 1 };
}

/** Largest |a - b| over the positions where `keep(index)` holds. */
export function maxError(
  actual: number[],
  expected: ArrayLike<number>,
  keep: (index: number) => boolean = () => true,
) {
  expect(actual).toHaveLength(expected.length);
  let worst = 0;
  for (let index = 0; index < actual.length; index += 1)
    if (keep(index))
      worst = Math.max(worst, Math.abs((actual[index] ?? Number.NaN) - Number(expected[index])));
  return worst;
}

/**
 * Compares a run with the fixture: logits and hidden states at real tokens, loss, NLL sum, token
 * count and (when computed) every gradient; returns the largest errors.
 */
export function compareWithFixture(
  run: DecoderRun,
  fixture: DecoderFixture,
  model: CausalLm,
  names: readonly HfTensorMapping[],
): { forward: number; gradient: number } {
  const mask = numbers(tensorOf(fixture.expected, "attention_mask"));
  const logits = tensorOf(fixture.expected, "logits");
  const vocab = logits.shape[2] ?? 1;
  let forward = maxError(
    numbers(run.outputs.logits),
    Array.from(logits.data, Number),
    (i) => mask[Math.floor(i / vocab)] === 1,
  );
  for (let index = 0; index <= run.layers; index += 1) {
    const state = tensorOf(fixture.expected, `hidden_states.${index}`);
    const width = state.shape[2] ?? 1;
    forward = Math.max(
      forward,
      maxError(
        numbers(run.outputs[`hidden${index}`]),
        Array.from(state.data, Number),
        (i) => mask[Math.floor(i / width)] === 1,
      ),
    );
  }
  for (const part of ["loss", "nll", "count"])
    forward = Math.max(
      forward,
      maxError(numbers(run.outputs[part]), Array.from(tensorOf(fixture.expected, part).data, Number)),
    );
  let gradient = 0;
  flatten(model.parameters).forEach(([path], index) => {
    const computed = run.outputs[`grad${index}`];
    if (!computed) return;
    const mapping = names.find((entry) => entry.path === path);
    if (!mapping) throw new Error(`no HF name for ${path}`);
    const expected = tensorOf(fixture.expected, `grad.${mapping.name}`);
    const [rows = 1, cols = 1] = expected.shape;
    const target = mapping.transpose
      ? transpose2d(Array.from(expected.data, Number), rows, cols)
      : Array.from(expected.data, Number);
    gradient = Math.max(gradient, maxError(numbers(computed), target));
  });
  return { forward, gradient };
}

const int64 = (rows: number[][]): TensorValue => ({
  data: BigInt64Array.from(rows.flat(), BigInt),
  dims: [rows.length, rows[0]?.length ?? 0],
});

/**
 * Largest change of earlier logits of real tokens when the last token of every row changes (causality), and
 * largest difference between padded rows' real logits and the same rows unpadded (left and right
 * padding), both in float64.
 */
export async function causalAndPaddingErrors(
  model: CausalLm,
  fixture: DecoderFixture,
  names: readonly HfTensorMapping[],
): Promise<{ causal: number; padding: number; changed: number }> {
  const ids = numbers(tensorOf(fixture.expected, "input_ids"));
  const mask = numbers(tensorOf(fixture.expected, "attention_mask"));
  const [batch, steps] = [3, ids.length / 3];
  const vocab = (tensorOf(fixture.expected, "logits").shape[2] ?? 1) as number;
  const rows = Array.from({ length: batch }, (_, b) => ids.slice(b * steps, (b + 1) * steps));
  const base = numbers((await runDecoder(model, fixture, names, "float64")).outputs.logits);
  const edited = rows.map((row) => row.map((id, t) => (t === steps - 1 ? (id + 5) % vocab : id)));
  const after = numbers(
    (await runDecoder(model, fixture, names, "float64", { ids: int64(edited) })).outputs.logits,
  );
  const lastStep = (index: number) => Math.floor(index / vocab) % steps === steps - 1;
  // Padding queries see only masked keys, so their (meaningless) outputs may see the future.
  const real = (index: number) => mask[Math.floor(index / vocab)] === 1;
  const causal = maxError(after, base, (index) => real(index) && !lastStep(index));
  const changed = maxError(after, base, lastStep);
  let padding = 0;
  for (let b = 0; b < batch; b += 1) {
    const real = Array.from({ length: steps }, (_, t) => t).filter((t) => mask[b * steps + t] === 1);
    const alone = [real.map((t) => rows[b]?.[t] ?? 0)];
    const run = await runDecoder(model, fixture, names, "float64", {
      ids: int64(alone),
      mask: int64([real.map(() => 1)]),
    });
    const single = numbers(run.outputs.logits);
    real.forEach((t, index) => {
      for (let v = 0; v < vocab; v += 1)
        padding = Math.max(
          padding,
          Math.abs((single[index * vocab + v] ?? 0) - (base[(b * steps + t) * vocab + v] ?? 0)),
        );
    });
  }
  return { causal, padding, changed };
}

/** Logits of three training-mode runs: keys 7, 7 and 8. */
export async function dropoutRuns(
  model: CausalLm,
  fixture: DecoderFixture,
  names: readonly HfTensorMapping[],
): Promise<number[][]> {
  const runs: number[][] = [];
  for (const key of [7, 7, 8])
    runs.push(numbers((await runDecoder(model, fixture, names, "float64", { key })).outputs.logits));
  return runs;
}

/**
 * Loads a fixture through `fromPretrained`, saves it with `savePretrained` into `directory` and loads
 * that again: the loaded model's errors against the oracle, whether the saved tensors equal the
 * source's (names, dtypes, shapes, bytes), and the largest logit difference between the two loads.
 */
export async function checkpointRoundTrip<M extends CausalLm>(
  name: string,
  architecture: HfArchitecture<M>,
  directory: string,
): Promise<{
  errors: { forward: number; gradient: number };
  sameTensors: boolean;
  reloaded: number;
  config: Record<string, unknown>;
}> {
  const fixture = loadFixture(name);
  const loaded = await fromPretrained(fixtureDirectory(name), { architecture });
  const names = architecture.mapping(loaded.model);
  const first = await runDecoder(loaded.model, fixture, names, "float64", { values: loaded.values });
  const errors = compareWithFixture(first, fixture, loaded.model, names);
  await savePretrained(directory, loaded);
  const saved = readSafetensors(readFileSync(`${directory}/model.safetensors`)).tensors;
  const sameTensors =
    saved.size === fixture.weights.size &&
    [...fixture.weights].every(([key, tensor]) => {
      const other = saved.get(key);
      return (
        other !== undefined &&
        other.dtype === tensor.dtype &&
        other.shape.join() === tensor.shape.join() &&
        Buffer.from(other.data.buffer, other.data.byteOffset, other.data.byteLength).equals(
          Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
        )
      );
    });
  const again = await fromPretrained(directory, { architecture });
  const second = await runDecoder(again.model, fixture, names, "float64", { values: again.values });
  const reloaded = maxError(numbers(second.outputs.logits), numbers(first.outputs.logits));
  const config = JSON.parse(readFileSync(`${directory}/config.json`, "utf8"));
  return { errors, sameTensors, reloaded, config };
}
