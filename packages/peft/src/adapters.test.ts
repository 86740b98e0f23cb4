import { flatten, initialize } from "@xlt/nn";
import { compile } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { applyBottleneckAdapters, BottleneckAdapter } from "./adapters.js";
import { PeftError } from "./errors.js";
import { applyLora } from "./lora.js";
import { namedModules } from "./modules.js";
import { runModel, TinyTagger, TwoLayer, taggerBatch, taggerLoss } from "./test-utils/models.js";
import { trainableParameters } from "./trainable.js";

const trainable = (model: { parameters: Parameters<typeof flatten>[0] }) =>
  flatten(model.parameters)
    .filter(([, p]) => p.trainable)
    .map(([path]) => path);

const ids = {
  name: "ids",
  dtype: "int64" as const,
  value: { data: BigInt64Array.from([1, 4, 7, 2, 0, 8], BigInt), dims: [2, 3] },
};

describe("bottleneck adapters (Houlsby et al. 2019)", () => {
  const base = new TinyTagger(11, 8, 3);

  it("follow the targeted projections; only adapters and the named norms train; identity at init", async () => {
    const model = applyBottleneckAdapters(base, {
      targetModules: ["output", "classifier"],
      reductionFactor: 4,
      trainModules: ["norm"],
    });
    const adapters = namedModules(model).filter(([, m]) => m instanceof BottleneckAdapter);
    expect(adapters.map(([path]) => path)).toEqual(["attention.output", "classifier"]);
    expect(trainable(model)).toEqual([
      "attention.output.adapter_down.weight",
      "attention.output.adapter_down.bias",
      "attention.output.adapter_up.weight",
      "attention.output.adapter_up.bias",
      "norm.weight",
      "norm.bias",
      "classifier.adapter_down.weight",
      "classifier.adapter_down.bias",
      "classifier.adapter_up.weight",
      "classifier.adapter_up.bias",
    ]);
    const shapes = Object.fromEntries(flatten(model.parameters).map(([p, q]) => [p, q.shape]));
    expect(shapes["attention.output.adapter_down.weight"]).toEqual([8, 2]);
    expect(shapes["classifier.adapter_up.weight"]).toEqual([1, 3]); // max(1, floor(3 / 4))
    // up = 0 at initialisation: the adapted model computes the base model's function.
    const values = initialize(model.parameters, 1);
    const a = await runModel(model, values, ids);
    const b = await runModel(base, values, ids);
    expect([...a.output.data]).toEqual([...b.output.data]);
    // attention.output: down 8·2 + 2, up 2·8 + 8; classifier: down 3·1 + 1, up 1·3 + 3; norm 2·8.
    expect(trainableParameters(model).trainable).toBe(18 + 24 + 4 + 6 + 16);
    expect(trainableParameters(model).byKind).toEqual({
      lora: 0,
      adapter: 18 + 24 + 4 + 6,
      bias: 8,
      other: 8,
    });
  });

  it("forward equals z + up(relu(down(z))) by hand, and its gradients match finite differences", async () => {
    const model = applyBottleneckAdapters(new TwoLayer([3, 4, 2]), {
      targetModules: ["first"],
      reductionFactor: 2,
    });
    const values = initialize(model.parameters, 2);
    for (const [path, data] of values)
      if (path.includes("adapter_up"))
        data.forEach((_, i) => {
          data[i] = 0.3 * Math.cos(i + 1);
        });
    const x = Float64Array.from([0.5, -1, 2, 1.5, 0.25, -0.75]);
    const input = { name: "x", dtype: "float64" as const, value: { data: x, dims: [2, 3] } };
    const wrt = ["first.adapter_down.weight", "first.adapter_up.bias"];
    const { output, grads } = await runModel(model, values, input, wrt);
    const get = (path: string) => values.get(path) as Float64Array;
    let worst = 0;
    for (let n = 0; n < 2; n += 1) {
      const z = Array.from({ length: 4 }, (_, j) => {
        let s = get("first.bias")[j] as number;
        for (let i = 0; i < 3; i += 1)
          s += (x[n * 3 + i] as number) * (get("first.weight")[i * 4 + j] as number);
        return s;
      });
      const h = Array.from({ length: 2 }, (_, k) => {
        let s = get("first.adapter_down.bias")[k] as number;
        for (let j = 0; j < 4; j += 1)
          s += (z[j] as number) * (get("first.adapter_down.weight")[j * 2 + k] as number);
        return Math.max(0, s);
      });
      const adapted = z.map((zj, j) => {
        let s = zj + (get("first.adapter_up.bias")[j] as number);
        for (let k = 0; k < 2; k += 1)
          s += (h[k] as number) * (get("first.adapter_up.weight")[k * 4 + j] as number);
        return s;
      });
      for (let o = 0; o < 2; o += 1) {
        let y = get("second.bias")[o] as number;
        for (let j = 0; j < 4; j += 1)
          y += (adapted[j] as number) * (get("second.weight")[j * 2 + o] as number);
        worst = Math.max(worst, Math.abs(y - (output.data[n * 2 + o] as number)));
      }
    }
    expect(worst).toBeLessThan(1e-12);
    const objective = async (vals: Map<string, Float32Array | Float64Array>) => {
      const { output: out } = await runModel(model, vals, input);
      let s = 0;
      out.data.forEach((v, i) => {
        s += Number(v) * Math.cos(0.7 * i);
      });
      return s;
    };
    let fd = 0;
    for (const path of wrt) {
      for (const index of [0, 1]) {
        const shifted = (eps: number) => {
          const copy = new Map(values);
          const data = Float64Array.from(get(path));
          data[index] = (data[index] as number) + eps;
          copy.set(path, data);
          return copy;
        };
        const numeric = ((await objective(shifted(1e-6))) - (await objective(shifted(-1e-6)))) / 2e-6;
        fd = Math.max(fd, Math.abs(numeric - Number(grads.get(path)?.data[index])));
      }
    }
    expect(fd).toBeLessThan(1e-7);
  });

  it("stack: a task adapter over a frozen language adapter (MAD-X style); training moves only the task adapter", async () => {
    const language = applyBottleneckAdapters(base, {
      targetModules: ["output"],
      name: "language",
      reductionFactor: 2,
    });
    const stacked = applyBottleneckAdapters(language, {
      targetModules: ["output"],
      name: "task",
      reductionFactor: 4,
      // tanh: with two ReLU units both can be off for all 8 tokens at this scale, and then nothing moves.
      activation: "tanh",
      modulesToSave: ["classifier"],
    });
    const layer = namedModules(stacked).find(([path]) => path === "attention.output")?.[1];
    expect(layer).toBeInstanceOf(BottleneckAdapter);
    expect((layer as BottleneckAdapter).base).toBeInstanceOf(BottleneckAdapter);
    expect(trainable(stacked)).toEqual([
      "attention.output.task_down.weight",
      "attention.output.task_down.bias",
      "attention.output.task_up.weight",
      "attention.output.task_up.bias",
      "classifier.weight",
      "classifier.bias",
    ]);
    const values = initialize(stacked.parameters, 3);
    const session = await compile(stacked, taggerLoss(stacked, 3), {
      inputs: {
        ids: { dtype: "int64", shape: ["batch", "steps"] },
        labels: { dtype: "int64", shape: ["batch", "steps"] },
      },
      optimizer: { kind: "adamw" },
      groups: [{ name: "all", match: /./, lr: 0.05 }],
      values,
    });
    const batch = taggerBatch(2, 4, 11, 3);
    for (let step = 0; step < 3; step += 1) await session.trainStep(batch);
    const moved = flatten(stacked.parameters)
      .filter(([path]) =>
        [...(session.parameters.get(path) ?? [])].some((v, i) => v !== values.get(path)?.[i]),
      )
      .map(([path]) => path);
    expect(moved.sort()).toEqual(trainable(stacked).sort());
    await session.release();
  });

  it("compose with LoRA (keepTrainable): both sets train", () => {
    const lora = applyLora(base, { targetModules: ["query"], r: 2 });
    const model = applyBottleneckAdapters(
      lora,
      { targetModules: ["classifier"], reductionFactor: 3 },
      { keepTrainable: true },
    );
    expect(trainable(model)).toEqual([
      "attention.query.lora_A",
      "attention.query.lora_B",
      "classifier.adapter_down.weight",
      "classifier.adapter_down.bias",
      "classifier.adapter_up.weight",
      "classifier.adapter_up.bias",
    ]);
  });

  it("errors", () => {
    const run = (f: () => unknown, message: string) => {
      expect(f).toThrowError(PeftError);
      expect(f).toThrowError(message);
    };
    run(
      () => applyBottleneckAdapters(base, { targetModules: ["attention"] }),
      'applyBottleneckAdapters: targetModules (module "attention"): expected only Linear, Nf4Linear or BottleneckAdapter modules, got Attention',
    );
    run(
      () => applyBottleneckAdapters(base, { targetModules: ["nothing"] }),
      'applyBottleneckAdapters: targetModules: expected a pattern matching at least one module, got ["nothing"]',
    );
    run(
      () => applyBottleneckAdapters(base, { targetModules: "(" }),
      'applyBottleneckAdapters: targetModules: expected a valid regular expression, got "("',
    );
    const once = applyBottleneckAdapters(base, { targetModules: ["output"] });
    run(
      () => applyBottleneckAdapters(once, { targetModules: ["output"] }),
      'BottleneckAdapter: name: expected a name the base layer\'s adapters do not use, got "adapter"',
    );
    run(
      () => applyBottleneckAdapters(base, { targetModules: ["output"], name: "a-b" }),
      'BottleneckAdapter: name: expected an alphanumeric identifier, got "a-b"',
    );
    run(
      () => applyBottleneckAdapters(base, { targetModules: ["output"], reductionFactor: 0 }),
      "BottleneckAdapter: reductionFactor: expected a number > 0, got 0",
    );
    run(
      // @ts-expect-error: an unknown activation on purpose
      () => applyBottleneckAdapters(base, { targetModules: ["output"], activation: "swish" }),
      'BottleneckAdapter: activation: expected "relu", "gelu" or "tanh", got "swish"',
    );
  });
});
