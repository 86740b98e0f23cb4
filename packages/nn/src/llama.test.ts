import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Linear } from "./layers.js";
import { LLAMA, LlamaForCausalLm, llamaArchitecture, llamaConfig, llamaTensorNames } from "./llama.js";
import { flatten } from "./parameters.js";
import { fromPretrained, savePretrained } from "./pretrained.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";
import { SwiGlu } from "./swiglu.js";
import {
  causalAndPaddingErrors,
  checkpointRoundTrip,
  compareWithFixture,
  dropoutRuns,
  loadFixture,
  maxError,
  runDecoder,
} from "./test-utils/decoder-fixtures.js";

const scratch = mkdtempSync(join(tmpdir(), "xlt-llama-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const fixture = loadFixture("llama-gqa");
const build = (options: { seed?: number; dtype?: "float32" | "float64" } = {}) =>
  new LlamaForCausalLm(llamaConfig(fixture.config), { dtype: "float64", ...options });

describe("Llama against the torch oracle (fixtures/make_decoders.py)", () => {
  for (const name of ["llama-gqa", "llama-tied"]) {
    it(`${name}: logits, hidden states, loss and every gradient match in float64`, async () => {
      const data = loadFixture(name);
      const model = new LlamaForCausalLm(llamaConfig(data.config), { dtype: "float64" });
      const names = llamaTensorNames(model);
      expect(names.map((entry) => entry.name).sort()).toEqual([...data.weights.keys()].sort());
      const run = await runDecoder(model, data, names, "float64", { gradients: true });
      const errors = compareWithFixture(run, data, model, names);
      expect(errors.forward).toBeLessThan(1e-10);
      expect(errors.gradient).toBeLessThan(1e-10);
    });
  }

  it("matches in float32 to 1e-4", async () => {
    const model = build({ dtype: "float32" });
    const names = llamaTensorNames(model);
    const errors = compareWithFixture(
      await runDecoder(model, fixture, names, "float32"),
      fixture,
      model,
      names,
    );
    expect(errors.forward).toBeLessThan(1e-4);
  });
});

describe("Llama behaviour", () => {
  it("is causal, and padding on either side leaves real tokens' logits unchanged", async () => {
    const model = build();
    const errors = await causalAndPaddingErrors(model, fixture, llamaTensorNames(model));
    expect(errors.causal).toBeLessThan(1e-12);
    expect(errors.changed).toBeGreaterThan(1e-3);
    expect(errors.padding).toBeLessThan(1e-10);
  });

  it("attention dropout repeats its masks for the same key and seed", async () => {
    const config = { ...llamaConfig(fixture.config), attentionDropout: 0.3 };
    const model = new LlamaForCausalLm(config, { dtype: "float64", seed: 5 });
    const names = llamaTensorNames(model);
    const [first = [], again = [], other = []] = await dropoutRuns(model, fixture, names);
    expect(again).toEqual(first);
    expect(maxError(other, first)).toBeGreaterThan(1e-3);
    const evaluation = (await runDecoder(model, fixture, names, "float64")).outputs.logits;
    expect(maxError(first, Array.from(evaluation?.data ?? [], Number))).toBeGreaterThan(1e-3);
  });

  it("parameter paths group by layer; projections map transposed; modules can be swapped", () => {
    const model = build();
    const paths = flatten(model.parameters).map(([path]) => path);
    expect(paths.filter((path) => path.startsWith("model.layers.layer1.")).length).toBe(9);
    expect(
      flatten(model.parameters).find(([path]) => path === "model.layers.layer0.self_attn.k_proj.weight")?.[1]
        .shape,
    ).toEqual([16, 8]);
    const names = llamaTensorNames(model);
    expect(names.find((entry) => entry.path === "model.layers.layer1.mlp.down_proj.weight")).toEqual({
      path: "model.layers.layer1.mlp.down_proj.weight",
      name: "model.layers.1.mlp.down_proj.weight",
      transpose: true,
    });
    expect(names.find((entry) => entry.path === "model.norm.weight")).toEqual({
      path: "model.norm.weight",
      name: "model.norm.weight",
    });
    const mlp = model.modules.model.modules.layers.modules.layer0?.modules.mlp;
    expect(mlp).toBeInstanceOf(SwiGlu);
    if (mlp instanceof SwiGlu) mlp.modules.up_proj = new Linear(16, 24, { bias: true });
    expect(flatten(model.parameters).map(([path]) => path)).toContain("model.layers.layer0.mlp.up_proj.bias");
  });

  it("refuses configurations it does not implement", () => {
    const config = fixture.config;
    expect(() => llamaConfig({ ...config, rope_scaling: { type: "linear", factor: 2 } })).toThrow(
      'llamaConfig: config.rope_scaling: expected null or absent, got {"type":"linear","factor":2}',
    );
    expect(() => llamaConfig({ ...config, attention_bias: true })).toThrow(
      "llamaConfig: config.attention_bias: expected false or absent, got true",
    );
    expect(() => llamaConfig({ ...config, hidden_act: "gelu" })).toThrow(
      'llamaConfig: config.hidden_act: expected one of silu, got "gelu"',
    );
    expect(() => llamaConfig({ ...config, head_dim: 8 })).toThrow(
      "llamaConfig: config.head_dim: expected 4 or absent, got 8",
    );
    expect(() => new LlamaForCausalLm({ ...llamaConfig(config), kvHeads: 3 })).toThrow(
      "LlamaModel: config.kvHeads: expected a divisor of heads (4), got 3",
    );
    expect(() => new LlamaForCausalLm({ ...llamaConfig(config), heads: 16, kvHeads: 16 })).toThrow(
      "LlamaModel: config.heads: expected a divisor of hidden (16) leaving an even head size, got 16",
    );
    expect(() => new SwiGlu(4, 0)).toThrow("SwiGlu: inner: expected a positive integer, got 0");
  });
});

describe("Llama Hugging Face checkpoints", () => {
  for (const name of ["llama-gqa", "llama-tied"]) {
    it(`${name}: loads, matches the oracle, saves identical tensors and reloads with identical logits`, async () => {
      const result = await checkpointRoundTrip(
        name,
        llamaArchitecture({ dtype: "float64" }),
        join(scratch, name),
      );
      expect(result.errors.forward).toBeLessThan(1e-10);
      expect(result.sameTensors).toBe(true);
      expect(result.reloaded).toBe(0);
      const source = loadFixture(name).config;
      for (const key of Object.keys(source).filter((key) => key !== "torch_dtype"))
        expect([key, result.config[key]]).toEqual([key, source[key]]);
    });
  }

  it("loads a LlamaModel checkpoint with rotary_emb.inv_freq buffers and keeps them on save", async () => {
    const directory = join(scratch, "base");
    mkdirSync(directory, { recursive: true });
    const tensors = new Map(
      [...fixture.weights]
        .filter(([key]) => key !== "lm_head.weight")
        .map(([key, tensor]) => [key.replace(/^model\./, ""), tensor]),
    );
    tensors.set("layers.0.self_attn.rotary_emb.inv_freq", {
      dtype: "F32",
      shape: [2],
      data: Float32Array.of(1, 0.01),
    });
    writeFileSync(join(directory, "model.safetensors"), writeSafetensors(tensors));
    writeFileSync(
      join(directory, "config.json"),
      JSON.stringify({ ...fixture.config, architectures: ["LlamaModel"] }),
    );
    const loaded = await fromPretrained(directory, { allowMissing: [/^lm_head\./] });
    expect(loaded.architecture).toBe(LLAMA);
    expect(loaded.missing).toEqual(["lm_head.weight"]);
    expect([...loaded.extra.keys()]).toEqual(["model.layers.0.self_attn.rotary_emb.inv_freq"]);
    const saved = join(scratch, "saved");
    await savePretrained(saved, loaded);
    const names = [...readSafetensors(readFileSync(join(saved, "model.safetensors"))).tensors.keys()];
    expect(names).toContain("model.layers.0.self_attn.rotary_emb.inv_freq");
    expect(names).toContain("lm_head.weight");
    expect(names).toContain("model.layers.1.mlp.gate_proj.weight");
  });
});
