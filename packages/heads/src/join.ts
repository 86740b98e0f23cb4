import { add, matmul, type Tensor } from "@xlt/graph";
import { HeadsError } from "./errors.js";

/**
 * Concatenates tensors along the last axis as a sum of MatMuls with constant 0/1 placement matrices
 * (`x_k · P_k`, `P_k` the identity placed at x_k's columns); exact, since every output is one
 * input value plus zeros. `concat` computes the same, but its gradient is a `Split` by runtime
 * sizes, whose output shapes ONNX cannot infer; when that gradient flows into a Scan (an LSTM's
 * outputs or final states), ORT then refuses to run the Scan ("Subgraph must have the shape set
 * for all outputs"). The gradient of a MatMul keeps its shapes inferable.
 */
export function joinLast(tensors: readonly Tensor[]): Tensor {
  const widths = tensors.map((t) => t.shape[t.rank - 1]);
  if (widths.some((w) => typeof w !== "number"))
    throw new HeadsError("joinLast", "tensors", "a fixed last dim on each", widths.map(String).join(", "));
  const sizes = widths as number[];
  const total = sizes.reduce((a, b) => a + b, 0);
  let offset = 0;
  let sum: Tensor | undefined;
  for (const [index, tensor] of tensors.entries()) {
    const width = sizes[index] as number;
    const placement = new (tensor.dtype === "float64" ? Float64Array : Float32Array)(width * total);
    for (let i = 0; i < width; i += 1) placement[i * total + offset + i] = 1;
    const placed = matmul(tensor, tensor.graph.constant(placement, [width, total])); // shape: [..., total]
    sum = sum ? add(sum, placed) : placed;
    offset += width;
  }
  if (!sum) throw new HeadsError("joinLast", "tensors", "at least one tensor", "none");
  return sum;
}
