import { readFileSync } from "node:fs";
import { flatten, initialize, Linear } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import { applyLora, loraLayers, resolveLoraConfig } from "./lora.js";
import { LoraLinear } from "./lora-linear.js";
import { namedModules } from "./modules.js";
import { runModel, TinyTagger, TwoLayer, valuesWithB } from "./test-utils/models.js";

const trainablePaths = (model: { parameters: Parameters<typeof flatten>[0] }) =>
  flatten(model.parameters)
    .filter(([, parameter]) => parameter.trainable)
    .map(([path]) => path);

function throwsExactly(run: () => unknown, message: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PeftError);
  expect((caught as PeftError).message).toBe(message);
}

describe("applyLora: which modules are wrapped and what trains", () => {
  const tagger = new TinyTagger(11, 8, 3);

  it("wraps the targeted Linears by name suffix; only lora_A and lora_B train", () => {
    const lora = applyLora(tagger, { targetModules: ["query", "value"], r: 2, alpha: 4 });
    expect(loraLayers(lora).map(([path]) => path)).toEqual(["attention.query", "attention.value"]);
    expect(trainablePaths(lora)).toEqual([
      "attention.query.lora_A",
      "attention.query.lora_B",
      "attention.value.lora_A",
      "attention.value.lora_B",
    ]);
    // Frozen base weights keep their paths, so checkpoint values still apply.
    const paths = flatten(lora.parameters).map(([path]) => path);
    expect(paths).toContain("attention.query.weight");
    expect(paths).toContain("embed.weight");
    expect(flatten(lora.parameters).find(([p]) => p === "attention.query.lora_A")?.[1].shape).toEqual([8, 2]);
    expect(flatten(lora.parameters).find(([p]) => p === "attention.query.lora_B")?.[1].shape).toEqual([2, 8]);
    // The original model is untouched.
    expect(trainablePaths(tagger)).toHaveLength(flatten(tagger.parameters).length);
  });

  it("a string target is a regular expression over the whole path (re.fullmatch)", () => {
    const lora = applyLora(tagger, { targetModules: "attention\\.(key|output)" });
    expect(loraLayers(lora).map(([path]) => path)).toEqual(["attention.key", "attention.output"]);
    throwsExactly(
      () => applyLora(tagger, { targetModules: "key" }),
      'applyLora: targetModules: expected a pattern matching at least one module, got "key"',
    );
  });

  it("bias all / lora_only, modules_to_save", () => {
    const all = applyLora(tagger, { targetModules: ["query"], bias: "all" });
    expect(trainablePaths(all).filter((p) => p.endsWith("bias"))).toEqual([
      "attention.query.bias",
      "attention.key.bias",
      "attention.value.bias",
      "attention.output.bias",
      "norm.bias",
      "classifier.bias",
    ]);
    const only = applyLora(tagger, { targetModules: ["query"], bias: "lora_only" });
    expect(trainablePaths(only).filter((p) => p.endsWith("bias"))).toEqual(["attention.query.bias"]);
    const head = applyLora(tagger, { targetModules: ["query", "value"], modulesToSave: ["classifier"] });
    expect(trainablePaths(head)).toContain("classifier.weight");
    expect(trainablePaths(head)).toContain("classifier.bias");
    expect(trainablePaths(head)).not.toContain("norm.weight");
  });

  it("rank_pattern and alpha_pattern set per-layer ranks and scalings; use_rslora scales by alpha/sqrt(r)", () => {
    const lora = applyLora(tagger, {
      targetModules: ["query", "key", "value"],
      r: 4,
      alpha: 8,
      rankPattern: { "attention\\.key": 2 },
      alphaPattern: { value: 3 },
    });
    const layers = Object.fromEntries(loraLayers(lora));
    expect([
      layers["attention.query"]?.rank,
      layers["attention.key"]?.rank,
      layers["attention.value"]?.rank,
    ]).toEqual([4, 2, 4]);
    expect(layers["attention.query"]?.scaling).toBe(2);
    expect(layers["attention.key"]?.scaling).toBe(4);
    expect(layers["attention.value"]?.scaling).toBe(0.75);
    const rs = applyLora(tagger, { targetModules: ["query"], r: 4, alpha: 8, useRslora: true });
    expect(loraLayers(rs)[0]?.[1].scaling).toBe(4);
  });

  it("defaults follow PEFT's LoraConfig", () => {
    expect(resolveLoraConfig({ targetModules: ["q"] })).toEqual({
      targetModules: ["q"],
      r: 8,
      alpha: 8,
      dropout: 0,
      bias: "none",
      useRslora: false,
      init: "kaiming",
      modulesToSave: [],
      rankPattern: {},
      alphaPattern: {},
      seed: 0,
    });
  });

  it("every submodule of the convention is reachable (namedModules)", () => {
    expect(namedModules(tagger).map(([path]) => path)).toEqual([
      "",
      "embed",
      "attention",
      "attention.query",
      "attention.key",
      "attention.value",
      "attention.output",
      "norm",
      "classifier",
    ]);
  });
});

describe("LoraLinear initialisation", () => {
  it("A ~ U(±1/sqrt(in)) (kaiming_uniform_ with a=sqrt(5) on [r, in]) and B = 0", () => {
    const layer = new LoraLinear(new Linear(400, 30), { rank: 16, alpha: 16 });
    const values = initialize(layer.parameters, 3);
    const a = values.get("lora_A") as Float32Array;
    const bound = 1 / Math.sqrt(400);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.98 * bound);
    // Uniform variance bound²/3, within sampling error of 6400 draws.
    const variance = a.reduce((s, v) => s + v * v, 0) / a.length;
    expect(Math.abs(variance / ((bound * bound) / 3) - 1)).toBeLessThan(0.05);
    expect([...(values.get("lora_B") as Float32Array)].every((v) => v === 0)).toBe(true);
  });

  it("gaussian: A ~ N(0, 1/r²)", () => {
    const layer = new LoraLinear(new Linear(400, 30), { rank: 8, alpha: 16, init: "gaussian" });
    const a = initialize(layer.parameters, 5).get("lora_A") as Float32Array;
    const variance = a.reduce((s, v) => s + v * v, 0) / a.length;
    expect(Math.abs(variance * 64 - 1)).toBeLessThan(0.06);
  });
});

describe("LoraLinear forward", () => {
  it("equals x·W + b + (alpha/r)·x·A·B computed by hand (float64)", async () => {
    const model = applyLora(new TwoLayer([5, 4, 3]), { targetModules: ["first"], r: 2, alpha: 6 });
    const values = valuesWithB(model.parameters, 1);
    const x = Float64Array.from({ length: 10 }, (_, i) => Math.sin(i + 1));
    const { output } = await runModel(model, values, {
      name: "x",
      dtype: "float64",
      value: { data: x, dims: [2, 5] },
    });
    const get = (path: string) => values.get(path) as Float64Array;
    const [w1, b1, a, bb, w2, b2] = [
      get("first.weight"),
      get("first.bias"),
      get("first.lora_A"),
      get("first.lora_B"),
      get("second.weight"),
      get("second.bias"),
    ];
    let worst = 0;
    for (let n = 0; n < 2; n += 1) {
      const h = Array.from({ length: 4 }, (_, j) => {
        let base = b1[j] as number;
        let low = 0;
        for (let i = 0; i < 5; i += 1) {
          base += (x[n * 5 + i] as number) * (w1[i * 4 + j] as number);
          for (let k = 0; k < 2; k += 1)
            low += (x[n * 5 + i] as number) * (a[i * 2 + k] as number) * (bb[k * 4 + j] as number);
        }
        return base + 3 * low;
      });
      for (let o = 0; o < 3; o += 1) {
        let y = b2[o] as number;
        for (let j = 0; j < 4; j += 1) y += (h[j] as number) * (w2[j * 3 + o] as number);
        worst = Math.max(worst, Math.abs(y - (output.data[n * 3 + o] as number)));
      }
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it("LoRA gradients match central finite differences (float64, attention block)", async () => {
    const model = applyLora(new TinyTagger(9, 6, 3), { targetModules: ["query", "value"], r: 2, alpha: 4 });
    const values = valuesWithB(model.parameters, 2);
    const ids = { data: BigInt64Array.from([1, 4, 7, 2, 0, 8], BigInt), dims: [2, 3] };
    const input = { name: "ids", dtype: "int64" as const, value: ids };
    const wrt = ["attention.query.lora_A", "attention.value.lora_B"];
    const { grads } = await runModel(model, values, input, wrt);
    const weights = (size: number) => Float64Array.from({ length: size }, (_, i) => Math.cos(0.7 * i));
    const objective = async (vals: Map<string, Float32Array | Float64Array>) => {
      const { output } = await runModel(model, vals, input);
      const w = weights(output.data.length);
      let s = 0;
      output.data.forEach((v, i) => {
        s += Number(v) * (w[i] as number);
      });
      return s;
    };
    const eps = 1e-6;
    let worst = 0;
    for (const path of wrt) {
      const base = values.get(path) as Float64Array;
      for (const index of [0, 3, base.length - 1]) {
        const plus = new Map(values);
        const minus = new Map(values);
        const up = Float64Array.from(base);
        const down = Float64Array.from(base);
        up[index] = (up[index] as number) + eps;
        down[index] = (down[index] as number) - eps;
        plus.set(path, up);
        minus.set(path, down);
        const numeric = ((await objective(plus)) - (await objective(minus))) / (2 * eps);
        const analytic = grads.get(path)?.data[index] as number;
        worst = Math.max(worst, Math.abs(numeric - analytic));
      }
    }
    expect(worst).toBeLessThan(1e-7);
  });
});

describe("LoRA against torch (fixtures/lora_torch.py: PEFT's lora.Linear forward, float64)", () => {
  interface TorchCase {
    rank: number;
    alpha: number;
    use_rslora: boolean;
    output: number[];
    grad_lora_A: number[];
    grad_lora_B: number[];
    grad_first_bias: number[];
  }
  const torchFixture: { cases: TorchCase[] } = JSON.parse(
    readFileSync(new URL("../fixtures/lora_torch.json", import.meta.url), "utf8"),
  );
  /** The fixture's closed-form values in torch layout `[rows, cols]`, returned in xlt layout `[cols, rows]` when `transpose`. */
  const value = (rows: number, cols: number, phase: number, scale: number, transpose: boolean) => {
    const torchData = Array.from({ length: rows * cols }, (_, i) => scale * Math.sin(0.37 * i + phase));
    if (!transpose) return Float64Array.from(torchData);
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r += 1)
      for (let c = 0; c < cols; c += 1) out[c * rows + r] = torchData[r * cols + c] as number;
    return out;
  };
  for (const entry of torchFixture.cases) {
    it(`rank ${entry.rank}, alpha ${entry.alpha}${entry.use_rslora ? ", rsLoRA" : ""}: outputs and gradients to 1e-12`, async () => {
      const r = entry.rank;
      const model = applyLora(new TwoLayer([5, 4, 2]), {
        targetModules: ["first"],
        r,
        alpha: entry.alpha,
        useRslora: entry.use_rslora,
      });
      const values = new Map<string, Float64Array>([
        ["first.weight", value(4, 5, 0.2, 0.5, true)],
        ["first.bias", value(1, 4, 0.3, 0.1, false)],
        ["first.lora_A", value(r, 5, 0.4, 0.3, true)],
        ["first.lora_B", value(4, r, 0.5, 0.2, true)],
        ["second.weight", value(2, 4, 0.6, 0.5, true)],
        ["second.bias", value(1, 2, 0.7, 0.1, false)],
      ]);
      const x = {
        name: "x",
        dtype: "float64" as const,
        value: { data: value(3, 5, 0.1, 1, false), dims: [3, 5] },
      };
      const { output, grads } = await runModel(model, values, x, [
        "first.lora_A",
        "first.lora_B",
        "first.bias",
      ]);
      const transpose = (data: ArrayLike<number>, rows: number, cols: number) =>
        Array.from(
          { length: rows * cols },
          (_, i) => data[(i % rows) * cols + Math.floor(i / rows)] as number,
        );
      const close = (actual: ArrayLike<number | bigint>, expected: number[]) => {
        expect(actual.length).toBe(expected.length);
        expected.forEach((v, i) => {
          expect(Math.abs(Number(actual[i]) - v)).toBeLessThan(1e-12);
        });
      };
      close(output.data, entry.output);
      // xlt A [in, r] and B [r, out] are the transposes of torch's lora_A.weight [r, in] and lora_B.weight [out, r].
      close(transpose(Array.from(grads.get("first.lora_A")?.data ?? [], Number), 5, r), entry.grad_lora_A);
      close(transpose(Array.from(grads.get("first.lora_B")?.data ?? [], Number), r, 4), entry.grad_lora_B);
      close(grads.get("first.bias")?.data ?? [], entry.grad_first_bias);
    });
  }
});

describe("applyLora errors", () => {
  const tagger = new TinyTagger(11, 8, 3);
  it("names the argument and says what was expected", () => {
    throwsExactly(
      () => applyLora(tagger, { targetModules: ["attention"] }),
      'applyLora: targetModules (module "attention"): expected only Linear or Nf4Linear modules, got Attention',
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: [] }),
      "applyLora: targetModules: expected a regular expression or a non-empty list of names, got []",
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: "(" }),
      'applyLora: targetModules: expected a valid regular expression, got "("',
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: ["query"], r: 0 }),
      "applyLora: r: expected a positive integer, got 0",
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: ["query"], alpha: Number.NaN }),
      "applyLora: alpha: expected a finite number, got NaN",
    );
    throwsExactly(
      // @ts-expect-error: an invalid bias mode on purpose
      () => applyLora(tagger, { targetModules: ["query"], bias: "some" }),
      'applyLora: bias: expected "none", "all" or "lora_only", got "some"',
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: ["query"], rankPattern: { key: 1.5 } }),
      "applyLora: rankPattern.key: expected a positive integer, got 1.5",
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: ["query"], alphaPattern: { key: Number.POSITIVE_INFINITY } }),
      "applyLora: alphaPattern.key: expected a finite number, got Infinity",
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: ["query"], rankPattern: { "[": 2 } }),
      'applyLora: rankPattern key: expected a valid regular expression, got "["',
    );
    throwsExactly(
      () => applyLora(tagger, { targetModules: ["query"], modulesToSave: ["head"] }),
      'applyLora: modulesToSave: expected names of modules in the model, got "head"',
    );
  });

  it("LoraLinear validates its options", () => {
    const base = new Linear(3, 2);
    throwsExactly(
      () => new LoraLinear(base, { rank: -1, alpha: 1 }),
      "LoraLinear: rank: expected a positive integer, got -1",
    );
    throwsExactly(
      () => new LoraLinear(base, { rank: 1, alpha: Number.NaN }),
      "LoraLinear: alpha: expected a finite number, got NaN",
    );
    throwsExactly(
      () => new LoraLinear(base, { rank: 1, alpha: 1, dropout: 1 }),
      "LoraLinear: dropout: expected a number in [0, 1), got 1",
    );
    throwsExactly(
      // @ts-expect-error: an invalid init on purpose
      () => new LoraLinear(base, { rank: 1, alpha: 1, init: "orthogonal" }),
      'LoraLinear: init: expected "kaiming" or "gaussian", got "orthogonal"',
    );
  });
});
