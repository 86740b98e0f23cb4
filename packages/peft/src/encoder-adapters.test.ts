import { readFileSync } from "node:fs";
import { crossEntropy, evaluate, Graph, reshape, type Tensor } from "@xlt/graph";
import { bind, EncoderLayer, EncoderModel, flatten, initialize, Linear, type TensorTree } from "@xlt/nn";
import { compile } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { floorDivide } from "./bottleneck.js";
import {
  AdapterEncoderLayer,
  applyEncoderAdapters,
  DOUBLE_SEQ_BN,
  type EncoderAdapterConfig,
  SEQ_BN,
} from "./encoder-adapters.js";
import { PeftError } from "./errors.js";
import { applyInvertibleAdapter, InvertibleAdapterModel } from "./invertible-adapters.js";
import { type AnyModule, mapModules, namedModules } from "./modules.js";
import { runEncoder, tinyBert, tinyInput } from "./test-utils/encoders.js";
import { trainableParameters } from "./trainable.js";

interface TorchConfig {
  readonly mh_adapter: boolean;
  readonly output_adapter: boolean;
  readonly original_ln_before: boolean;
  readonly original_ln_after: boolean;
  readonly residual_before_ln: boolean | "post_add";
  readonly non_linearity: EncoderAdapterConfig["nonLinearity"];
  readonly reduction_factor: number;
  readonly scaling?: number;
  readonly leave_out?: number[];
}

interface TorchCase {
  readonly name: string;
  readonly head: "masked-lm" | "token-classification";
  readonly stack: [string, TorchConfig][];
  readonly inv: { reduction_factor: number; non_linearity: "relu" } | null;
  readonly parameters: Record<string, number[]>;
  readonly logits: number[];
  readonly logits_shape: number[];
  readonly grads: Record<string, number[]>;
}

const fixture: { cases: TorchCase[] } = JSON.parse(
  readFileSync(new URL("../fixtures/adapters_torch.json", import.meta.url), "utf8"),
);

/** AdapterHub's config keys as xlt's. */
const fromTorch = (name: string, config: TorchConfig): EncoderAdapterConfig => ({
  name,
  mhAdapter: config.mh_adapter,
  outputAdapter: config.output_adapter,
  originalLnBefore: config.original_ln_before,
  originalLnAfter: config.original_ln_after,
  residualBeforeLn: config.residual_before_ln,
  nonLinearity: config.non_linearity,
  reductionFactor: config.reduction_factor,
  ...(config.scaling === undefined ? {} : { scaling: config.scaling }),
  ...(config.leave_out === undefined ? {} : { leaveOut: config.leave_out }),
});

const trainable = (model: AnyModule) =>
  flatten(model.parameters)
    .filter(([, p]) => p.trainable)
    .map(([path]) => path);

const maxError = (actual: ArrayLike<number | bigint>, expected: readonly number[]) => {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  expected.forEach((value, i) => {
    worst = Math.max(worst, Math.abs(Number(actual[i]) - value));
  });
  return worst;
};

describe("encoder adapters against AdapterHub's arrangement in torch (fixtures/adapters_torch.py, float64)", () => {
  for (const entry of fixture.cases) {
    it(`${entry.name}: every parameter path, the logits and the adapters' gradients to 1e-10`, async () => {
      let model: EncoderModel | InvertibleAdapterModel = new EncoderModel(tinyBert(entry.head), {
        dtype: "float64",
      });
      for (const [index, [name, config]] of entry.stack.entries()) {
        model = applyEncoderAdapters(model, fromTorch(name, config));
        if (index === 0 && entry.inv)
          model = applyInvertibleAdapter(
            model,
            { reductionFactor: entry.inv.reduction_factor, nonLinearity: entry.inv.non_linearity },
            { keepTrainable: true },
          );
      }
      const paths = flatten(model.parameters).map(([path]) => path);
      expect([...paths].sort()).toEqual(Object.keys(entry.parameters).sort());
      const values = new Map(
        Object.entries(entry.parameters).map(([path, data]) => [path, Float64Array.from(data)]),
      );
      const wrt = Object.keys(entry.grads);
      const { logits, grads } = await runEncoder(model, values, wrt);
      expect(logits.dims).toEqual(entry.logits_shape);
      expect(maxError(logits.data, entry.logits)).toBeLessThan(1e-10);
      let worst = 0;
      for (const path of wrt)
        worst = Math.max(worst, maxError(grads.get(path)?.data ?? [], entry.grads[path] ?? []));
      expect(worst).toBeLessThan(1e-10);
    });
  }
});

const mlm = new EncoderModel(tinyBert("masked-lm"), { dtype: "float64" });
const tagger = new EncoderModel(tinyBert("token-classification"), { dtype: "float64" });

describe("applyEncoderAdapters", () => {
  it("Pfeiffer (SEQ_BN): one block after each feed-forward, bottleneck hidden/16 (at least 1), only it trains", () => {
    const model = applyEncoderAdapters(mlm, { ...SEQ_BN, name: "lang" });
    const layers = namedModules(model).filter(([, m]) => m instanceof AdapterEncoderLayer);
    expect(layers.map(([path]) => path)).toEqual(["encoder.layers.layer0", "encoder.layers.layer1"]);
    expect(trainable(model)).toEqual(
      [0, 1].flatMap((layer) =>
        ["down.weight", "down.bias", "up.weight", "up.bias"].map(
          (name) => `encoder.layers.layer${layer}.adapters.lang.outputAdapter.${name}`,
        ),
      ),
    );
    const shapes = Object.fromEntries(flatten(model.parameters).map(([path, p]) => [path, p.shape]));
    expect(shapes["encoder.layers.layer0.adapters.lang.outputAdapter.down.weight"]).toEqual([8, 1]);
    // down 8·1 + 1, up 1·8 + 8, in each of 2 layers.
    const report = trainableParameters(model);
    expect(report.trainable).toBe(2 * 25);
    expect(report.byKind).toEqual({ lora: 0, adapter: 50, bias: 0, other: 0 });
    expect(report.total).toBe(trainableParameters(mlm).total + 50);
  });

  it("a reduction factor per layer (AdapterHub's mapping with a default)", () => {
    const model = applyEncoderAdapters(mlm, { ...SEQ_BN, reductionFactor: { "1": 2, default: 8 } });
    const shapes = Object.fromEntries(flatten(model.parameters).map(([path, p]) => [path, p.shape]));
    expect(shapes["encoder.layers.layer0.adapters.adapter.outputAdapter.down.weight"]).toEqual([8, 1]);
    expect(shapes["encoder.layers.layer1.adapters.adapter.outputAdapter.down.weight"]).toEqual([8, 4]);
    // Python's 8 // 0.1 is 79 (AdapterHub's int(hidden // reduction_factor)); ⌊8 / 0.1⌋ would be 80.
    const wide = applyEncoderAdapters(mlm, { ...SEQ_BN, reductionFactor: 0.1 });
    const up = flatten(wide.parameters).find(([path]) =>
      path.endsWith("layer0.adapters.adapter.outputAdapter.up.weight"),
    );
    expect(up?.[1].shape).toEqual([79, 8]);
    // CPython's a // b for these pairs (/usr/bin/python3): 79, 2, 64, 3, 9, 2560, 14, 29.
    const pairs = [
      [8, 0.1],
      [8, 3],
      [8, 0.125],
      [7, 2],
      [1, 0.1],
      [768, 0.3],
      [10, 0.7],
      [6, 0.2],
    ] as const;
    expect(pairs.map(([a, b]) => floorDivide(a, b))).toEqual([79, 2, 64, 3, 9, 2560, 14, 29]);
  });

  it("Houlsby (DOUBLE_SEQ_BN): blocks after attention and feed-forward; leaveOut skips a layer", () => {
    const model = applyEncoderAdapters(tagger, { ...DOUBLE_SEQ_BN, reductionFactor: 4, leaveOut: [0] });
    expect(
      namedModules(model)
        .filter(([, m]) => m instanceof EncoderLayer)
        .map(([path]) => path),
    ).toEqual(["encoder.layers.layer0"]);
    expect(trainable(model).filter((path) => path.endsWith("down.weight"))).toEqual([
      "encoder.layers.layer1.adapters.adapter.mhAdapter.down.weight",
      "encoder.layers.layer1.adapters.adapter.outputAdapter.down.weight",
    ]);
    // Two blocks of down 8·2 + 2, up 2·8 + 8.
    expect(trainableParameters(model).trainable).toBe(2 * 42);
  });

  it("MAD-X: a task adapter over a frozen language adapter and invertible adapter; counts per stage", () => {
    const language = applyInvertibleAdapter(
      applyEncoderAdapters(mlm, { ...SEQ_BN, name: "lang", reductionFactor: 2 }),
      {},
      {
        keepTrainable: true,
      },
    );
    // Language stage: 2 · (down 8·4 + 4, up 4·8 + 8) + NICE (F and G: down 4·2 + 2, up 2·4 + 4).
    expect(trainableParameters(language).trainable).toBe(2 * 76 + 2 * 22);
    expect(trainableParameters(language).byKind.adapter).toBe(2 * 76 + 2 * 22);
    const task = applyEncoderAdapters(
      applyInvertibleAdapter(
        applyEncoderAdapters(tagger, { ...SEQ_BN, name: "lang", reductionFactor: 2 }),
        {},
        { keepTrainable: true },
      ),
      {
        ...SEQ_BN,
        name: "task",
        modulesToSave: ["head"],
      },
    );
    expect(task).toBeInstanceOf(InvertibleAdapterModel);
    const names = trainable(task);
    expect(names.every((path) => path.includes(".adapters.task.") || path.startsWith("head."))).toBe(true);
    // Task: 2 · (down 8·1 + 1, up 1·8 + 8), head 8·3 + 3.
    expect(trainableParameters(task)).toMatchObject({
      trainable: 2 * 25 + 27,
      byKind: { adapter: 50, other: 24, bias: 3 },
    });
    const layer = namedModules(task).find(([path]) => path === "encoder.layers.layer1")?.[1];
    expect(layer instanceof AdapterEncoderLayer && Object.keys(layer.modules.adapters.modules)).toEqual([
      "lang",
      "task",
    ]);
  });

  it("mam_adapter init (up = 0) leaves the model's output unchanged bit for bit; AdapterHub's bert init does not", async () => {
    const values = initialize(mlm.parameters, 3);
    const base = await runEncoder(mlm, values);
    for (const config of [SEQ_BN, DOUBLE_SEQ_BN]) {
      const identity = applyEncoderAdapters(mlm, {
        ...config,
        reductionFactor: 4,
        initWeights: "mam_adapter",
      });
      const own = initialize(identity.parameters, 3);
      for (const [path, data] of values) own.set(path, data);
      expect([...(await runEncoder(identity, own)).logits.data]).toEqual([...base.logits.data]);
      const bert = applyEncoderAdapters(mlm, { ...config, reductionFactor: 4 });
      const drawn = initialize(bert.parameters, 3);
      for (const [path, data] of values) drawn.set(path, data);
      expect(
        maxError((await runEncoder(bert, drawn)).logits.data, [...base.logits.data].map(Number)),
      ).toBeGreaterThan(1e-6);
    }
  });

  it("initialisations: bert N(0, 0.02²), houlsby truncated at ±0.02, mam_adapter U(±1/√8) and zero up", () => {
    const draw = (initWeights: EncoderAdapterConfig["initWeights"]) => {
      const model = applyEncoderAdapters(mlm, { ...SEQ_BN, reductionFactor: 0.125, initWeights });
      const values = initialize(model.parameters, 5);
      const at = (name: string) =>
        values.get(`encoder.layers.layer0.adapters.adapter.outputAdapter.${name}`) as Float64Array;
      return { down: at("down.weight"), up: at("up.weight"), bias: at("down.bias") };
    };
    const std = (data: Float64Array) => Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
    const bert = draw("bert");
    expect(bert.down.length).toBe(8 * 64);
    expect(std(bert.down)).toBeGreaterThan(0.017);
    expect(std(bert.down)).toBeLessThan(0.023);
    expect([...bert.bias].every((v) => v === 0)).toBe(true);
    const houlsby = draw("houlsby");
    expect(Math.max(...houlsby.down.map(Math.abs), ...houlsby.up.map(Math.abs))).toBeLessThanOrEqual(0.02);
    expect(std(houlsby.up)).toBeGreaterThan(0.007);
    const mam = draw("mam_adapter");
    expect(Math.max(...mam.down.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect([...mam.up].every((v) => v === 0)).toBe(true);
  });

  it("errors name the argument", () => {
    const bad =
      (config: Partial<EncoderAdapterConfig>, model: AnyModule = mlm) =>
      () =>
        applyEncoderAdapters(model, { ...SEQ_BN, ...config });
    expect(bad({ name: "a.b" })).toThrow(
      new PeftError("applyEncoderAdapters", "name", "an alphanumeric identifier", '"a.b"'),
    );
    expect(bad({ mhAdapter: false, outputAdapter: false })).toThrow(
      "applyEncoderAdapters: mhAdapter, outputAdapter: expected at least one of them true, got both false",
    );
    expect(bad({ reductionFactor: 0 })).toThrow(
      "applyEncoderAdapters: reductionFactor: expected a finite number > 0, got 0",
    );
    expect(bad({ nonLinearity: "elu" as "relu" })).toThrow(
      'applyEncoderAdapters: nonLinearity: expected one of relu, gelu, gelu_new, swish, silu, tanh, got "elu"',
    );
    expect(bad({ residualBeforeLn: "pre_add" as "post_add" })).toThrow(
      'applyEncoderAdapters: residualBeforeLn: expected true, false or "post_add", got "pre_add"',
    );
    expect(bad({ residualBeforeLn: "post_add", originalLnBefore: false })).toThrow(
      'applyEncoderAdapters: residualBeforeLn: expected "post_add" only with originalLnBefore, got "post_add"',
    );
    expect(bad({ reductionFactor: { "1": -2, default: 16 } })).toThrow(
      'applyEncoderAdapters: reductionFactor["1"]: expected a finite number > 0, got -2',
    );
    expect(bad({ reductionFactor: { "1": 2 } })).toThrow(
      'applyEncoderAdapters: reductionFactor: expected an entry for layer 0 or a "default", got {"1":2}',
    );
    expect(bad({ scaling: Number.NaN })).toThrow(
      "applyEncoderAdapters: scaling: expected a finite number, got NaN",
    );
    expect(bad({ dropout: 1 })).toThrow("applyEncoderAdapters: dropout: expected a number in [0, 1), got 1");
    expect(bad({ initWeights: "xavier" as "bert" })).toThrow(
      'applyEncoderAdapters: initWeights: expected "bert", "mam_adapter" or "houlsby", got "xavier"',
    );
    expect(bad({ leaveOut: [1.5] })).toThrow(
      "applyEncoderAdapters: leaveOut: expected layer indices (integers >= 0), got 1.5",
    );
    expect(bad({ trainModules: "(" })).toThrow(
      'applyEncoderAdapters: trainModules: expected a valid regular expression, got "("',
    );
    expect(bad({}, applyEncoderAdapters(mlm, SEQ_BN))).toThrow(
      'applyEncoderAdapters: name: expected a name the model\'s adapters do not use, got "adapter"',
    );
    expect(bad({}, new Linear(2, 2))).toThrow(
      "applyEncoderAdapters: model: expected a model with @xlt/nn EncoderLayer blocks, got none in its modules",
    );
    const normless = mapModules(mlm, (_module, path) =>
      path.endsWith("outputNorm") ? { parameters: {}, forward: (_: TensorTree, x: Tensor) => x } : undefined,
    );
    expect(bad({}, normless)).toThrow(
      "applyEncoderAdapters: model: expected layer norms with a weight, got none",
    );
  });
});

describe("training with compile (AdamW, float64): frozen weights unchanged bit for bit", () => {
  const batch = {
    ids: { data: BigInt64Array.from(tinyInput.ids, BigInt), dims: [2, 5] },
    labels: { data: BigInt64Array.from([0, 1, 2, 0, 1, 2, 1, 0, -100, -100], BigInt), dims: [2, 5] },
  };

  async function train(model: InvertibleAdapterModel, values: Map<string, Float64Array | Float32Array>) {
    const classes = model.config.head === "masked-lm" ? model.config.vocabSize : (model.config.labels ?? 3);
    const session = await compile(
      model,
      (params: TensorTree, inputs: Readonly<Record<"ids" | "labels", Tensor>>, context) => {
        const logits = model.forward(params, { ids: inputs.ids }, context).logits as Tensor;
        return { loss: crossEntropy(reshape(logits, [-1, classes]), reshape(inputs.labels, [-1]), -100) };
      },
      {
        inputs: {
          ids: { dtype: "int64", shape: ["batch", "steps"] },
          labels: { dtype: "int64", shape: ["batch", "steps"] },
        },
        optimizer: { kind: "adamw" },
        groups: [{ name: "all", match: /./, lr: 0.01 }],
        values,
      },
    );
    const losses: number[] = [];
    for (let step = 0; step < 3; step += 1) losses.push((await session.trainStep(batch)).loss);
    const moved: string[] = [];
    for (const [path, parameter] of flatten(model.parameters)) {
      const before = values.get(path) as Float64Array;
      const after = session.parameters.get(path) as Float64Array;
      const same = Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(
        Buffer.from(before.buffer, before.byteOffset, before.byteLength),
      );
      if (!same) moved.push(path);
      if (!parameter.trainable) expect(same, path).toBe(true);
    }
    await session.release();
    return { moved, losses };
  }

  it("MAD-X task stage: only the task adapter and the head move; the language adapter and NICE stay", async () => {
    const language = applyInvertibleAdapter(
      applyEncoderAdapters(tagger, { ...SEQ_BN, name: "lang", reductionFactor: 4 }),
      {},
      {
        keepTrainable: true,
      },
    );
    const model = applyEncoderAdapters(language, {
      ...SEQ_BN,
      name: "task",
      reductionFactor: 4,
      modulesToSave: ["head"],
    });
    const values = initialize(model.parameters, 7);
    const { moved, losses } = await train(model, values);
    expect(moved.sort()).toEqual(trainable(model).sort());
    expect(moved.some((path) => path.includes(".adapters.lang.") || path.includes(".invertible."))).toBe(
      false,
    );
    expect(losses[2]).toBeLessThan(losses[0] as number);
  });

  it("MAD-X language stage (masked LM through the inverse): the adapter and NICE move, head.bias stays", async () => {
    const model = applyInvertibleAdapter(
      applyEncoderAdapters(mlm, { ...SEQ_BN, name: "lang", reductionFactor: 4 }),
      {},
      { keepTrainable: true },
    );
    const values = initialize(model.parameters, 8);
    const { moved, losses } = await train(model, values);
    expect(moved.sort()).toEqual(trainable(model).sort());
    expect(moved.filter((path) => path.includes(".invertible."))).toHaveLength(8);
    expect(moved.filter((path) => path.includes(".adapters.lang."))).toHaveLength(8);
    expect(losses[2]).toBeLessThan(losses[0] as number);
  });
});

describe("adapter dropout", () => {
  it("drops in training only: evaluation equals the model without dropout", async () => {
    const config = { ...SEQ_BN, reductionFactor: 4, initWeights: "houlsby" as const };
    const dropped = applyEncoderAdapters(mlm, { ...config, dropout: 0.5, seed: 3 });
    const plain = applyEncoderAdapters(mlm, config);
    const values = initialize(plain.parameters, 9);
    const graph = new Graph();
    const params = bind(dropped.parameters, (path, p) => graph.input(path, p.dtype, p.shape));
    const ids = graph.constant(BigInt64Array.from([1, 2, 3, 4], BigInt), [1, 4]);
    const outputs = {
      training: dropped.forward(params, { ids }, { training: true }).logits as Tensor,
      evaluation: dropped.forward(params, { ids }, { training: false }).logits as Tensor,
      plain: plain.forward(params, { ids }, { training: false }).logits as Tensor,
    };
    const feeds = Object.fromEntries(
      flatten(plain.parameters).map(([path, p]) => [
        path,
        { data: values.get(path) as Float64Array, dims: [...p.shape] },
      ]),
    );
    const out = await evaluate(outputs, feeds);
    expect([...(out.evaluation?.data ?? [])]).toEqual([...(out.plain?.data ?? [])]);
    expect(maxError(out.training?.data ?? [], [...(out.plain?.data ?? [])].map(Number))).toBeGreaterThan(
      1e-6,
    );
  });
});
