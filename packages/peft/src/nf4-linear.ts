import { add, cast, matmul, type Tensor, transpose } from "@xlt/graph";
import { type Linear, leaf, type Module, type ParameterTree, type TensorTree } from "@xlt/nn";
import { PeftError } from "./errors.js";
import type { Nf4Tensor } from "./nf4.js";
import { dequantizeInGraph } from "./nf4-graph.js";

/**
 * A frozen `Linear` whose weight is stored in 4-bit NF4 (QLoRA's base layer): the packed codes and
 * absmax are initializers inside the ONNX graph, dequantised there on every forward, so the backward
 * pass flows through them to the input. The NF4 tensor holds torch's `[out, in]` layout, as
 * bitsandbytes quantises it; the bias (if any) stays a float parameter.
 */
export class Nf4Linear implements Module {
  readonly parameters: ParameterTree;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(
    readonly base: Linear,
    readonly weight: Nf4Tensor,
  ) {
    const [out, inFeatures] = weight.shape;
    if (weight.shape.length !== 2 || out !== base.outFeatures || inFeatures !== base.inFeatures) {
      throw new PeftError(
        "Nf4Linear",
        "weight.shape",
        `[${base.outFeatures}, ${base.inFeatures}] (torch's [out, in])`,
        `[${weight.shape.join(", ")}]`,
      );
    }
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.parameters = Object.fromEntries(
      Object.entries(base.parameters).filter(([name]) => name !== "weight"),
    );
  }

  forward(params: TensorTree, x: Tensor): Tensor {
    // NF4 dequantises to float32; a float64 model computes with those values widened.
    const w = cast(transpose(dequantizeInGraph(this.weight, x), [1, 0]), x.dtype); // shape: [in, out]
    const y = matmul(x, w); // shape: [..., out]
    return "bias" in params ? add(y, leaf(params, "bias")) : y;
  }
}
