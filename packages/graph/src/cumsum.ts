import { GraphError } from "./errors.js";
import { apply1, type Primitive, type Tensor } from "./graph.js";
import { normaliseAxis } from "./shape.js";

interface CumSumAttrs {
  readonly axis: number;
  readonly reverse: boolean;
}

// The gradient of a running sum is the running sum of dy taken the other way.
const CumSum: Primitive<CumSumAttrs> = {
  name: "CumSum",
  infer: ([x]) => {
    const input = x as Tensor;
    if (input.dtype === "bool") throw new GraphError("cumsum", "x", "a numeric tensor", input.dtype);
    return [{ dtype: input.dtype, shape: input.shape }];
  },
  emit: (context, [x], outputs, { axis, reverse }) =>
    context.node("CumSum", [x as string, context.int64([axis])], outputs, {
      reverse: { int: reverse ? 1 : 0 },
    }),
  vjp: ({ dy, attrs: { axis, reverse } }) => [cumsum(dy[0] as Tensor, axis, !reverse)],
};

/**
 * Inclusive running sum along `axis` (ONNX CumSum): `y_i = x_0 + … + x_i`, or `x_i + … + x_last`
 * with `reverse`. Positions along a symbolic axis are `cumsum(ones) − 1`.
 */
export function cumsum(x: Tensor, axis: number, reverse = false): Tensor {
  return apply1(CumSum, [x], { axis: normaliseAxis("cumsum", axis, x.rank), reverse });
}
