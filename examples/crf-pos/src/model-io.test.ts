import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFeatureCrf, encodeSentence, predict, tagSet } from "./model.js";
import { loadModel, saveModel } from "./model-io.js";
import { Random } from "./random.js";
import { TINY_CORPUS } from "./test-utils/tiny-corpus.js";

const directories: string[] = [];
async function temporary(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "crf-pos-"));
  directories.push(directory);
  return directory;
}
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

function randomModel() {
  const model = createFeatureCrf(tagSet(TINY_CORPUS), 5);
  const random = new Random(11);
  for (const array of [model.weights, model.transitions, model.start, model.end]) {
    for (let index = 0; index < array.length; index++) array[index] = random.next() - 0.5;
  }
  return model;
}

describe("saveModel / loadModel", () => {
  it("round-trips every parameter exactly, and with them the predictions", async () => {
    const model = randomModel();
    const directory = await temporary();
    await saveModel(model, directory, { note: "test" });
    const loaded = await loadModel(directory);
    expect(loaded.bits).toBe(5);
    expect(loaded.tags).toEqual(model.tags);
    expect(loaded.weights).toEqual(model.weights);
    expect(loaded.transitions).toEqual(model.transitions);
    expect(loaded.start).toEqual(model.start);
    expect(loaded.end).toEqual(model.end);
    const encoded = TINY_CORPUS.map((sentence) => encodeSentence(model, sentence));
    expect(predict(loaded, encoded)).toEqual(predict(model, encoded));
    const json = JSON.parse(await readFile(join(directory, "model.json"), "utf8"));
    expect(json.info).toEqual({ note: "test" });
  });

  it("writes a safetensors file: u64 header length, JSON header, 8-byte aligned F64 data", async () => {
    const model = randomModel();
    const directory = await temporary();
    await saveModel(model, directory);
    const bytes = await readFile(join(directory, "weights.safetensors"));
    const headerSize = Number(bytes.readBigUInt64LE(0));
    expect(headerSize % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerSize).toString("utf8"));
    expect(header).toEqual({ weights: { dtype: "F64", shape: [32, 3], data_offsets: [0, 32 * 3 * 8] } });
    expect(bytes.readDoubleLE(8 + headerSize + 8 * 5)).toBe(model.weights[5]);
  });

  it("rejects files it did not write", async () => {
    const model = randomModel();
    const directory = await temporary();
    await saveModel(model, directory);
    const path = join(directory, "model.json");
    const json = JSON.parse(await readFile(path, "utf8"));
    await writeFile(path, JSON.stringify({ ...json, featuresPerToken: 3 }));
    await expect(loadModel(directory)).rejects.toThrow("loadModel: featuresPerToken: expected 21, got 3");
    await writeFile(path, JSON.stringify({ ...json, bits: 6 }));
    await expect(loadModel(directory)).rejects.toThrow(
      'loadModel: weights.safetensors["weights"]: expected F64 [64, 3], got F64 [32, 3]',
    );
    await writeFile(path, JSON.stringify({ ...json, format: "other" }));
    await expect(loadModel(directory)).rejects.toThrow(
      'loadModel: model.json: expected format "xlt-crf-pos" version 1, got other 1',
    );
  });
});
