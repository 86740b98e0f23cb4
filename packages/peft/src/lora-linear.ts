import { add, dropout, matmul, mul, type Tensor } from "@xlt/graph";
import {
  type ForwardContext,
  fanInUniform,
  Linear,
  leaf,
  type Module,
  normal,
  Parameter,
  type ParameterTree,
  type TensorTree,
  zeros,
} from "@xlt/nn";
import { PeftError } from "./errors.js";
import { Nf4Linear } from "./nf4-linear.js";

/** How LoRA's `A` starts (`B` always starts at zero, so the wrapped layer starts unchanged). */
export type LoraInit = "kaiming" | "gaussian";

export interface LoraLayerOptions {
  readonly rank: number;
  readonly alpha: number;
  /** Dropout on the LoRA branch's input (default 0). */
  readonly dropout?: number;
  /** Seed of that dropout's masks (keyed by the forward context's step, as `@xlt/graph`'s dropout). */
  readonly dropoutSeed?: number;
  /** Scale by `alpha/√rank` (rank-stabilised LoRA, Kalajdzievski 2023) instead of `alpha/rank`. */
  readonly useRslora?: boolean;
  /**
   * `"kaiming"` (default, PEFT's `init_lora_weights=True`): A ~ U(±1/√in), torch's
   * `kaiming_uniform_(a=√5)` on A's `[r, in]`; `"gaussian"`: A ~ N(0, 1/r²), PEFT's `"gaussian"`.
   */
  readonly init?: LoraInit;
  /** Whether `B·A` is already merged into the base weight (the LoRA branch is then skipped). */
  readonly merged?: boolean;
}

/** The layers LoRA can wrap: a float `Linear`, or its NF4-quantised form (QLoRA). */
export type LoraBase = Linear | Nf4Linear;

/**
 * LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") around a linear layer:
 * `y = base(x) + s · dropout(x)·A·B`, `A: [in, r]`, `B: [r, out]` (the transposes of PEFT's
 * `lora_A.weight [r, in]` and `lora_B.weight [out, r]`), `s = alpha/r` or `alpha/√r`. The parameter
 * tree keeps the base layer's `weight`/`bias` at their paths and adds `lora_A` and `lora_B`.
 */
export class LoraLinear implements Module {
  readonly parameters: ParameterTree;
  readonly rank: number;
  readonly alpha: number;
  readonly scaling: number;
  readonly dropout: number;
  readonly dropoutSeed: number;
  readonly useRslora: boolean;
  readonly init: LoraInit;
  readonly merged: boolean;

  constructor(
    readonly base: LoraBase,
    options: LoraLayerOptions,
  ) {
    const fn = "LoraLinear";
    if (!(base instanceof Linear || base instanceof Nf4Linear))
      throw new PeftError(fn, "base", "a Linear or Nf4Linear", typeof base);
    if (!(Number.isInteger(options.rank) && options.rank >= 1))
      throw new PeftError(fn, "rank", "a positive integer", String(options.rank));
    if (!Number.isFinite(options.alpha))
      throw new PeftError(fn, "alpha", "a finite number", String(options.alpha));
    const rate = options.dropout ?? 0;
    if (!(rate >= 0 && rate < 1)) throw new PeftError(fn, "dropout", "a number in [0, 1)", String(rate));
    const init = options.init ?? "kaiming";
    if (init !== "kaiming" && init !== "gaussian")
      throw new PeftError(fn, "init", '"kaiming" or "gaussian"', JSON.stringify(init));
    this.rank = options.rank;
    this.alpha = options.alpha;
    this.useRslora = options.useRslora ?? false;
    this.scaling = this.useRslora ? options.alpha / Math.sqrt(options.rank) : options.alpha / options.rank;
    this.dropout = rate;
    this.dropoutSeed = options.dropoutSeed ?? 0;
    this.init = init;
    this.merged = options.merged ?? false;
    const linear = base instanceof Linear ? base : base.base;
    const dtype = (linear.parameters.weight as Parameter).dtype;
    const a = init === "kaiming" ? fanInUniform(base.inFeatures) : normal(1 / options.rank);
    this.parameters = {
      ...base.parameters,
      lora_A: new Parameter([base.inFeatures, options.rank], { init: a, dtype }),
      lora_B: new Parameter([options.rank, base.outFeatures], { init: zeros, dtype }),
    };
  }

  get inFeatures(): number {
    return this.base.inFeatures;
  }

  get outFeatures(): number {
    return this.base.outFeatures;
  }

  /**
   * `context` keys the dropout masks; a composite that calls its `Linear`s without one (their own
   * `forward` takes none) gets the evaluation behaviour: no LoRA dropout.
   */
  forward(params: TensorTree, x: Tensor, context: ForwardContext = { training: false }): Tensor {
    const y = this.base.forward(params, x); // shape: [..., out]
    if (this.merged) return y;
    const h = dropout(x, this.dropout, this.dropoutSeed, context.training, context.key);
    const low = matmul(matmul(h, leaf(params, "lora_A")), leaf(params, "lora_B")); // shape: [..., out]
    // The scale as an [out] vector, not a scalar: ORT fuses MatMul·scalar into FusedMatMul, whose
    // float32 `alpha` attribute would round a float64 scale (alpha/√r) to float32.
    const out = this.outFeatures;
    const scale = low.graph.constant(
      low.dtype === "float64"
        ? new Float64Array(out).fill(this.scaling)
        : new Float32Array(out).fill(this.scaling),
      [out],
    );
    return add(y, mul(low, scale));
  }
}
