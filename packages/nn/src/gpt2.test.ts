import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GPT2, Gpt2LmHeadModel, gpt2Architecture, gpt2Config, gpt2TensorNames } from "./gpt2.js";
import { Linear } from "./layers.js";
import { flatten } from "./parameters.js";
import { fromPretrained } from "./pretrained.js";
import { writeSafetensors } from "./safetensors.js";
import {
  causalAndPaddingErrors,
  checkpointRoundTrip,
  compareWithFixture,
  dropoutRuns,
  loadFixture,
  maxError,
  runDecoder,
  tensorOf,
} from "./test-utils/decoder-fixtures.js";

const scratch = mkdtempSync(join(tmpdir(), "xlt-gpt2-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const fixture = loadFixture("gpt2");
const build = (options: { seed?: number; dtype?: "float32" | "float64" } = {}) =>
  new Gpt2LmHeadModel(gpt2Config(fixture.config), { dtype: "float64", ...options });

describe("GPT-2 against the torch oracle (fixtures/make_decoders.py)", () => {
  for (const name of ["gpt2", "gpt2-untied"]) {
    it(`${name}: logits, hidden states, loss and every gradient match in float64`, async () => {
      const data = loadFixture(name);
      const model = new Gpt2LmHeadModel(gpt2Config(data.config), { dtype: "float64" });
      const names = gpt2TensorNames(model);
      expect(names.map((entry) => entry.name).sort()).toEqual([...data.weights.keys()].sort());
      const run = await runDecoder(model, data, names, "float64", { gradients: true });
      const errors = compareWithFixture(run, data, model, names);
      expect(errors.forward).toBeLessThan(1e-10);
      expect(errors.gradient).toBeLessThan(1e-10);
    });
  }

  it("matches in float32 to 1e-4", async () => {
    const model = build({ dtype: "float32" });
    const names = gpt2TensorNames(model);
    const errors = compareWithFixture(
      await runDecoder(model, fixture, names, "float32"),
      fixture,
      model,
      names,
    );
    expect(errors.forward).toBeLessThan(1e-4);
  });
});

describe("GPT-2 behaviour", () => {
  it("is causal, and padding on either side leaves real tokens' logits unchanged", async () => {
    const model = build();
    const errors = await causalAndPaddingErrors(model, fixture, gpt2TensorNames(model));
    expect(errors.causal).toBeLessThan(1e-12);
    expect(errors.changed).toBeGreaterThan(1e-3);
    expect(errors.padding).toBeLessThan(1e-10);
  });

  it("dropout (embd, attn, resid) repeats its masks for the same key and seed", async () => {
    const model = build({ seed: 3 });
    const names = gpt2TensorNames(model);
    const [first = [], again = [], other = []] = await dropoutRuns(model, fixture, names);
    const evaluation = (await runDecoder(model, fixture, names, "float64")).outputs.logits;
    expect(again).toEqual(first);
    expect(maxError(other, first)).toBeGreaterThan(1e-3);
    expect(maxError(first, Array.from(evaluation?.data ?? [], Number))).toBeGreaterThan(1e-3);
    const [reseeded = []] = await dropoutRuns(build({ seed: 4 }), fixture, names);
    expect(maxError(reseeded, first)).toBeGreaterThan(1e-3);
  });

  it("parameter paths group by layer, HF names drop the layer prefix, and modules can be swapped", () => {
    const model = build();
    const paths = flatten(model.parameters).map(([path]) => path);
    expect(paths).toContain("transformer.h.layer1.attn.c_attn.weight");
    expect(paths.filter((path) => path.startsWith("transformer.h.layer0.")).length).toBe(12);
    expect(paths).not.toContain("lm_head.weight");
    expect(
      gpt2TensorNames(model).find((entry) => entry.path === "transformer.h.layer1.mlp.c_fc.bias"),
    ).toEqual({
      path: "transformer.h.layer1.mlp.c_fc.bias",
      name: "transformer.h.1.mlp.c_fc.bias",
    });
    const block = model.modules.transformer.modules.h.modules.layer0;
    const attention = block?.modules.attn;
    expect(attention).toBeDefined();
    const untied = new Gpt2LmHeadModel({ ...gpt2Config(fixture.config), tieWordEmbeddings: false });
    expect(gpt2TensorNames(untied).at(-1)).toEqual({
      path: "lm_head.weight",
      name: "lm_head.weight",
      transpose: true,
    });
    untied.modules.lm_head = new Linear(12, 29, { bias: true });
    expect(flatten(untied.parameters).map(([path]) => path)).toContain("lm_head.bias");
  });

  it("refuses configurations it does not implement", () => {
    const config = fixture.config;
    expect(() => gpt2Config({ ...config, activation_function: "swish" })).toThrow(
      'gpt2Config: config.activation_function: expected one of gelu_new, gelu_pytorch_tanh, gelu, relu, got "swish"',
    );
    expect(() => gpt2Config({ ...config, scale_attn_by_inverse_layer_idx: true })).toThrow(
      "gpt2Config: config.scale_attn_by_inverse_layer_idx: expected false or absent, got true",
    );
    expect(() => gpt2Config({ ...config, n_embd: 0 })).toThrow(
      "gpt2Config: config.n_embd: expected a positive integer, got 0",
    );
    expect(() => gpt2Config({ ...config, resid_pdrop: 1 })).toThrow(
      "gpt2Config: config.resid_pdrop: expected a number in [0, 0.999], got 1",
    );
    expect(() => gpt2Config({ ...config, tie_word_embeddings: "yes" })).toThrow(
      'gpt2Config: config.tie_word_embeddings: expected a boolean, got "yes"',
    );
    expect(() => new Gpt2LmHeadModel({ ...gpt2Config(config), heads: 5 })).toThrow(
      "Gpt2Model: config.heads: expected a divisor of hidden (12), got 5",
    );
  });
});

describe("GPT-2 Hugging Face checkpoints", () => {
  for (const name of ["gpt2", "gpt2-untied"]) {
    it(`${name}: loads, matches the oracle, saves identical tensors and reloads with identical logits`, async () => {
      const directory = join(scratch, name);
      const result = await checkpointRoundTrip(name, gpt2Architecture({ dtype: "float64" }), directory);
      expect(result.errors.forward).toBeLessThan(1e-10);
      expect(result.sameTensors).toBe(true);
      expect(result.reloaded).toBe(0);
      const source = loadFixture(name).config;
      for (const key of ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "tie_word_embeddings"])
        expect(result.config[key]).toEqual(source[key]);
      expect(result.config).toMatchObject({
        model_type: "gpt2",
        architectures: ["GPT2LMHeadModel"],
        n_inner: 48,
      });
    });
  }

  it("accepts a present tied lm_head.weight and the attn.bias buffers; loads a GPT2Model checkpoint", async () => {
    const directory = join(scratch, "with-buffers");
    const tensors = new Map(fixture.weights);
    tensors.set("lm_head.weight", tensorOf(fixture.weights, "transformer.wte.weight"));
    tensors.set("transformer.h.0.attn.bias", {
      dtype: "F32",
      shape: [1, 1, 2, 2],
      data: Float32Array.of(1, 0, 1, 1),
    });
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, "model.safetensors"), writeSafetensors(tensors));
    writeFileSync(join(directory, "config.json"), JSON.stringify(fixture.config));
    const loaded = await fromPretrained(directory);
    expect(loaded.architecture).toBe(GPT2);
    expect(loaded.unexpected).toEqual([]);
    expect([...loaded.extra.keys()]).toEqual(["transformer.h.0.attn.bias"]);
    const base = join(scratch, "base");
    mkdirSync(base, { recursive: true });
    const stripped = new Map(
      [...fixture.weights].map(([key, tensor]) => [key.replace(/^transformer\./, ""), tensor]),
    );
    writeFileSync(join(base, "model.safetensors"), writeSafetensors(stripped));
    writeFileSync(
      join(base, "config.json"),
      JSON.stringify({ ...fixture.config, architectures: ["GPT2Model"] }),
    );
    const model = await fromPretrained(base, { architecture: gpt2Architecture({ dtype: "float64" }) });
    const names = gpt2TensorNames(model.model);
    const errors = compareWithFixture(
      await runDecoder(model.model, fixture, names, "float64", { values: model.values }),
      fixture,
      model.model,
      names,
    );
    expect(errors.forward).toBeLessThan(1e-10);
    await expect(
      fromPretrained(base, { config: { architectures: ["GPT2ForSequenceClassification"] } }),
    ).rejects.toThrow(
      'gpt2Architecture.fromConfig: config.architectures[0]: expected one of GPT2LMHeadModel, GPT2Model, got "GPT2ForSequenceClassification"',
    );
  });
});
