import { concat, type Tensor } from "@xlt/graph";
import { HeadsError } from "./errors.js";

/**
 * Concatenates tensors along the last axis (one ONNX Concat; its gradient is a Split, by constant
 * sizes where the widths are fixed, and runs inside a Scan as well as outside one).
 */
export function joinLast(tensors: readonly Tensor[]): Tensor {
  const first = tensors[0];
  if (!first) throw new HeadsError("joinLast", "tensors", "at least one tensor", "none");
  for (const tensor of tensors) {
    if (tensor.rank !== first.rank)
      throw new HeadsError("joinLast", "tensors", `tensors of rank ${first.rank}`, `rank ${tensor.rank}`);
  }
  return concat(tensors, -1);
}
