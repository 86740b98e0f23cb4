import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TaggerError } from "./errors.js";
import { FEATURES_PER_TOKEN } from "./features.js";
import type { FeatureCrf } from "./model.js";

/** `model.json`: everything but the feature weights, which sit in `weights.safetensors`. */
export interface SavedModel {
  format: "xlt-crf-pos";
  version: 1;
  bits: number;
  featuresPerToken: number;
  tags: string[];
  /** shape: [numTags, numTags] ([from, to]) */
  transitions: number[][];
  start: number[];
  end: number[];
  weightsFile: "weights.safetensors";
  /** Free-form facts about the run (hyperparameters, accuracies). */
  info: Record<string, unknown>;
}

/**
 * Writes `model.json` and `weights.safetensors` (one float64 tensor "weights" of shape
 * [2 ** bits, numTags], in the safetensors format) into `directory`.
 */
export async function saveModel(
  model: FeatureCrf,
  directory: string,
  info: Record<string, unknown> = {},
): Promise<void> {
  const K = model.tags.length;
  const json: SavedModel = {
    format: "xlt-crf-pos",
    version: 1,
    bits: model.bits,
    featuresPerToken: FEATURES_PER_TOKEN,
    tags: [...model.tags],
    transitions: Array.from({ length: K }, (_, from) =>
      Array.from(model.transitions.subarray(from * K, (from + 1) * K)),
    ),
    start: Array.from(model.start),
    end: Array.from(model.end),
    weightsFile: "weights.safetensors",
    info,
  };
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, "model.json"), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(
    join(directory, json.weightsFile),
    safetensors("weights", model.weights, [2 ** model.bits, K]),
  );
}

/** Reads a model written by `saveModel`. */
export async function loadModel(directory: string): Promise<FeatureCrf> {
  const json = JSON.parse(await readFile(join(directory, "model.json"), "utf8")) as SavedModel;
  if (json.format !== "xlt-crf-pos" || json.version !== 1) {
    throw new TaggerError(
      "loadModel",
      "model.json",
      'format "xlt-crf-pos" version 1',
      `${json.format} ${json.version}`,
    );
  }
  if (json.featuresPerToken !== FEATURES_PER_TOKEN) {
    throw new TaggerError(
      "loadModel",
      "featuresPerToken",
      String(FEATURES_PER_TOKEN),
      String(json.featuresPerToken),
    );
  }
  const K = json.tags.length;
  const weights = readSafetensor(await readFile(join(directory, json.weightsFile)), "weights", [
    2 ** json.bits,
    K,
  ]);
  return {
    bits: json.bits,
    tags: json.tags,
    weights,
    transitions: Float64Array.from(json.transitions.flat()),
    start: Float64Array.from(json.start),
    end: Float64Array.from(json.end),
  };
}

/** One F64 tensor in the safetensors layout: u64 header size, JSON header, little-endian data. */
function safetensors(name: string, data: Float64Array, shape: number[]): Uint8Array {
  const header = JSON.stringify({ [name]: { dtype: "F64", shape, data_offsets: [0, data.byteLength] } });
  // The data must start 8-byte aligned: pad the header with spaces.
  const padded = header.padEnd(Math.ceil(header.length / 8) * 8, " ");
  const out = new Uint8Array(8 + padded.length + data.byteLength);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded.length), true);
  out.set(new TextEncoder().encode(padded), 8);
  const body = new DataView(out.buffer, 8 + padded.length);
  for (let index = 0; index < data.length; index++) body.setFloat64(index * 8, data[index] as number, true);
  return out;
}

function readSafetensor(bytes: Uint8Array, name: string, shape: number[]): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerSize))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const entry = header[name];
  if (entry === undefined || entry.dtype !== "F64" || entry.shape.join(",") !== shape.join(",")) {
    throw new TaggerError(
      "loadModel",
      `weights.safetensors["${name}"]`,
      `F64 [${shape.join(", ")}]`,
      entry === undefined ? "no such tensor" : `${entry.dtype} [${entry.shape.join(", ")}]`,
    );
  }
  const [begin, end] = entry.data_offsets;
  const out = new Float64Array((end - begin) / 8);
  for (let index = 0; index < out.length; index++)
    out[index] = view.getFloat64(8 + headerSize + begin + index * 8, true);
  return out;
}
