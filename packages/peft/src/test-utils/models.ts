import {
  add,
  crossEntropy,
  Graph,
  grad,
  matmul,
  mul,
  reduceSum,
  reshape,
  evaluate as run,
  softmax,
  type Tensor,
  type TensorValue,
  transposeLast,
} from "@xlt/graph";
import {
  bind,
  Embedding,
  type ForwardContext,
  initialize,
  LayerNorm,
  Linear,
  type Module,
  type ParameterDType,
  type ParameterTree,
  subtree,
  type TensorTree,
} from "@xlt/nn";

type Layer = Module<Tensor, Tensor>;

function treeOf(modules: Readonly<Record<string, Layer>>): ParameterTree {
  return Object.fromEntries(Object.entries(modules).map(([key, module]) => [key, module.parameters]));
}

/** Single-head self-attention following the `modules` convention: query, key, value, output. */
export class Attention implements Module {
  readonly modules: Readonly<Record<"query" | "key" | "value" | "output", Layer>>;
  readonly parameters: ParameterTree;

  constructor(
    readonly dim: number,
    dtype: ParameterDType,
  ) {
    this.modules = {
      query: new Linear(dim, dim, { dtype }),
      key: new Linear(dim, dim, { dtype }),
      value: new Linear(dim, dim, { dtype }),
      output: new Linear(dim, dim, { dtype }),
    };
    this.parameters = treeOf(this.modules);
  }

  forward(params: TensorTree, x: Tensor, context: ForwardContext): Tensor {
    const at = (name: "query" | "key" | "value" | "output", input: Tensor) =>
      this.modules[name].forward(subtree(params, name), input, context);
    const q = at("query", x); // shape: [batch, steps, dim]
    const k = at("key", x);
    const v = at("value", x);
    const scores = mul(matmul(q, transposeLast(k)), 1 / Math.sqrt(this.dim)); // shape: [batch, steps, steps]
    return at("output", matmul(softmax(scores, -1), v));
  }
}

/** Embedding → attention (+ residual) → LayerNorm → classifier: a tiny tagger built from `@xlt/nn`. */
export class TinyTagger implements Module {
  readonly modules: Readonly<{ embed: Layer; attention: Layer; norm: Layer; classifier: Layer }>;
  readonly parameters: ParameterTree;

  constructor(
    readonly vocab: number,
    readonly dim: number,
    readonly classes: number,
    dtype: ParameterDType = "float64",
  ) {
    this.modules = {
      embed: new Embedding(vocab, dim, { dtype }),
      attention: new Attention(dim, dtype),
      norm: new LayerNorm(dim, 1e-5, { dtype }),
      classifier: new Linear(dim, classes, { dtype }),
    };
    this.parameters = treeOf(this.modules);
  }

  forward(params: TensorTree, ids: Tensor, context: ForwardContext): Tensor {
    const at = (name: "embed" | "attention" | "norm" | "classifier", input: Tensor) =>
      this.modules[name].forward(subtree(params, name), input, context);
    const h = at("embed", ids); // shape: [batch, steps, dim]
    return at("classifier", at("norm", add(h, at("attention", h)))); // shape: [batch, steps, classes]
  }
}

/** Two linear layers with a hidden ReLU-free product (`x·W1 + b1` then `·W2 + b2`) under `modules`. */
export class TwoLayer implements Module {
  readonly modules: Readonly<{ first: Layer; second: Layer }>;
  readonly parameters: ParameterTree;

  constructor(sizes: readonly [number, number, number], dtype: ParameterDType = "float64") {
    this.modules = {
      first: new Linear(sizes[0], sizes[1], { dtype }),
      second: new Linear(sizes[1], sizes[2], { dtype }),
    };
    this.parameters = treeOf(this.modules);
  }

  forward(params: TensorTree, x: Tensor, context: ForwardContext): Tensor {
    const h = this.modules.first.forward(subtree(params, "first"), x, context);
    return this.modules.second.forward(subtree(params, "second"), h, context);
  }
}

/** The tagger's mean cross-entropy over `[batch, steps]` labels. */
export function taggerLoss(model: Module<Tensor, Tensor>, classes: number) {
  return (
    params: TensorTree,
    inputs: Readonly<Record<"ids" | "labels", Tensor>>,
    context: ForwardContext,
  ) => {
    const logits = model.forward(params, inputs.ids, context);
    const flat = reshape(logits, [-1, classes]);
    return { loss: crossEntropy(flat, reshape(inputs.labels, [-1]), -100), outputs: { logits } };
  };
}

/** A seeded batch of token ids and labels. */
export function taggerBatch(batch: number, steps: number, vocab: number, classes: number) {
  const ids = BigInt64Array.from({ length: batch * steps }, (_, i) => BigInt((i * 7 + 3) % vocab));
  const labels = BigInt64Array.from({ length: batch * steps }, (_, i) => BigInt((i * 5 + 1) % classes));
  return { ids: { data: ids, dims: [batch, steps] }, labels: { data: labels, dims: [batch, steps] } };
}

/** Initial values of every parameter, with every `lora_B` filled with small nonzero values (B starts at 0). */
export function valuesWithB(tree: ParameterTree, seed: number): Map<string, Float32Array | Float64Array> {
  const values = initialize(tree, seed);
  for (const [path, data] of values) {
    if (path.endsWith("lora_B"))
      for (let i = 0; i < data.length; i += 1) data[i] = 0.05 * Math.sin(1.3 * i + path.length);
  }
  return values;
}

/**
 * Runs `forward` of `model` in evaluation mode on one graph with every parameter an input, returning
 * the output and, with `wrt`, the gradients of `sum(output · weights)` for those parameter paths.
 */
export async function runModel(
  model: Module<Tensor, Tensor>,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
  input: {
    readonly name: string;
    readonly dtype: "float32" | "float64" | "int64";
    readonly value: TensorValue;
  },
  wrt: readonly string[] = [],
): Promise<{ output: TensorValue; grads: Map<string, TensorValue> }> {
  const graph = new Graph();
  const leaves = new Map<string, Tensor>();
  const params = bind(model.parameters, (path, parameter) => {
    const tensor = graph.input(path, parameter.dtype, parameter.shape);
    leaves.set(path, tensor);
    return tensor;
  });
  const x = graph.input(input.name, input.dtype, input.value.dims);
  const output = model.forward(params, x, { training: false });
  const outputs: Record<string, Tensor> = { output };
  if (wrt.length > 0) {
    // A fixed, uneven weighting of the outputs makes every output element count differently.
    const size = output.shape.reduce((p: number, d) => p * Number(d), 1);
    const weights = graph.constant(
      output.dtype === "float64"
        ? Float64Array.from({ length: size }, (_, i) => Math.cos(0.7 * i))
        : Float32Array.from({ length: size }, (_, i) => Math.cos(0.7 * i)),
      output.shape.map(Number),
    );
    const scalar = reduceSum(mul(output, weights));
    const grads = grad(
      scalar,
      wrt.map((path) => leaves.get(path) as Tensor),
    );
    wrt.forEach((path, index) => {
      outputs[`grad:${path}`] = grads[index] as Tensor;
    });
  }
  const feeds: Record<string, TensorValue> = { [input.name]: input.value };
  for (const [path, tensor] of leaves) {
    const data = values.get(path);
    if (!data) throw new Error(`no value for ${path}`);
    feeds[path] = { data, dims: tensor.shape.map(Number) };
  }
  const results = await run(outputs, feeds);
  return {
    output: results.output as TensorValue,
    grads: new Map(wrt.map((path) => [path, results[`grad:${path}`] as TensorValue])),
  };
}
