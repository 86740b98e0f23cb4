import { evaluate, Graph, grad, mul, reduceSum, type Tensor, type TensorValue } from "@xlt/graph";
import {
  bind,
  type EncoderHead,
  type EncoderInput,
  type EncoderModelConfig,
  type EncoderModelOutput,
  type Module,
} from "@xlt/nn";

/** The tiny BERT of `fixtures/adapters_torch.py`: no dropout, exact gelu. */
export const tinyBert = (head: EncoderHead): EncoderModelConfig => ({
  family: "bert",
  head,
  vocabSize: 20,
  hidden: 8,
  layers: 2,
  heads: 2,
  intermediate: 16,
  maxPositions: 16,
  typeVocabSize: 2,
  labels: 3,
  hiddenDropout: 0,
  attentionDropout: 0,
});

/** Two rows of five tokens, the second padded after three; token types on the first row. */
export const tinyInput = {
  ids: [2, 7, 9, 4, 11, 3, 5, 1, 0, 0],
  mask: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
  tokenTypes: [0, 0, 1, 1, 1, 0, 0, 0, 0, 0],
};

const int64 = (values: readonly number[]): TensorValue => ({
  data: BigInt64Array.from(values, BigInt),
  dims: [2, 5],
});

/**
 * Runs `model` in evaluation mode on {@link tinyInput} in one graph with every parameter an input:
 * the logits and, for the paths in `wrt`, the gradients of `sum(logits · cos(0.7 i))`.
 */
export async function runEncoder(
  model: Module<EncoderInput, EncoderModelOutput>,
  values: ReadonlyMap<string, Float32Array | Float64Array>,
  wrt: readonly string[] = [],
): Promise<{ logits: TensorValue; grads: Map<string, TensorValue> }> {
  const graph = new Graph();
  const leaves = new Map<string, Tensor>();
  const params = bind(model.parameters, (path, parameter) => {
    const tensor = graph.input(path, parameter.dtype, parameter.shape);
    leaves.set(path, tensor);
    return tensor;
  });
  const input = {
    ids: graph.input("ids", "int64", [2, 5]),
    mask: graph.input("mask", "int64", [2, 5]),
    tokenTypes: graph.input("tokenTypes", "int64", [2, 5]),
  };
  const logits = model.forward(params, input, { training: false }).logits;
  if (!logits) throw new Error("the model has no logits");
  const outputs: Record<string, Tensor> = { logits };
  if (wrt.length > 0) {
    const size = logits.shape.reduce((product: number, dim) => product * Number(dim), 1);
    const weights = graph.constant(
      Float64Array.from({ length: size }, (_, i) => Math.cos(0.7 * i)),
      logits.shape.map(Number),
    );
    const gradients = grad(
      reduceSum(mul(logits, weights)),
      wrt.map((path) => leaves.get(path) as Tensor),
    );
    wrt.forEach((path, index) => {
      outputs[`grad:${path}`] = gradients[index] as Tensor;
    });
  }
  const feeds: Record<string, TensorValue> = {
    ids: int64(tinyInput.ids),
    mask: int64(tinyInput.mask),
    tokenTypes: int64(tinyInput.tokenTypes),
  };
  for (const [path, tensor] of leaves) {
    const data = values.get(path);
    if (!data) throw new Error(`no value for ${path}`);
    feeds[path] = { data, dims: tensor.shape.map(Number) };
  }
  const results = await evaluate(outputs, feeds);
  return {
    logits: results.logits as TensorValue,
    grads: new Map(wrt.map((path) => [path, results[`grad:${path}`] as TensorValue])),
  };
}
