import {
  add,
  concat,
  dropout,
  matmul,
  mul,
  scan,
  sigmoid,
  slice,
  squeeze,
  type Tensor,
  tanh,
  transpose,
  unsqueeze,
  where,
  zerosLike,
} from "@xlt/graph";
import {
  type ForwardContext,
  leaf,
  type Module,
  Parameter,
  type ParameterDType,
  type ParameterTree,
  subtree,
  type TensorTree,
  uniform,
} from "@xlt/nn";
import { HeadsError } from "./errors.js";

export interface BiLstmOptions {
  /** Features of each input step. */
  readonly inputSize: number;
  /** Hidden units per direction. */
  readonly hiddenSize: number;
  /** Stacked layers (default 1). */
  readonly layers?: number;
  /** Run a second, reversed LSTM and concatenate (default true). */
  readonly bidirectional?: boolean;
  /** Dropout on each layer's output before the next layer, as torch's `nn.LSTM` (default 0). */
  readonly dropout?: number;
  /** Seed of the dropout masks (default 0). */
  readonly seed?: number;
  readonly dtype?: ParameterDType;
}

/** What {@link BiLstm.forward} takes: the steps and which of them are real. */
export interface LstmInput {
  /** shape: [batch, steps, inputSize] */
  readonly x: Tensor;
  /** bool, shape: [batch, steps]; true on each sequence's first `length` steps. */
  readonly mask: Tensor;
}

/** What {@link BiLstm.forward} returns. */
export interface LstmOutput {
  /** The top layer's outputs, 0 past each length. shape: [batch, steps, directions·hiddenSize] */
  readonly output: Tensor;
  /** Every layer's outputs (before dropout), bottom first, for layer mixing. */
  readonly layers: readonly Tensor[];
  /**
   * The final hidden state of each layer and direction in torch's `h_n` order (layer 0 forward,
   * layer 0 backward, layer 1 forward, …): the forward direction's state after each sequence's
   * last real step, the backward direction's after its first. shape of each: [batch, hiddenSize]
   */
  readonly hidden: readonly Tensor[];
}

const DIRECTIONS = ["forward", "backward"] as const;

function positive(argument: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new HeadsError("BiLstm", argument, "a positive integer", String(value));
}

/**
 * One LSTM direction over `x` (Hochreiter & Schmidhuber 1997, with a forget gate as torch's):
 * i, f, g, o = σ, σ, tanh, σ of `x_t·W_ihᵀ + h·W_hhᵀ + b_ih + b_hh` (torch's gate order), then
 * `c' = f·c + i·g`, `h' = o·tanh(c')`. The input projection of all steps is one MatMul outside the
 * loop; the recurrence is an ONNX Scan, so its gradient is a reversed Scan (backpropagation through
 * time). Padded steps keep the carried state and output 0, so they affect neither outputs nor
 * gradients.
 */
function runDirection(
  params: TensorTree,
  x: Tensor,
  mask: Tensor,
  hidden: number,
  reverse: boolean,
): { ys: Tensor; last: Tensor } {
  const bias = add(leaf(params, "bias_ih"), leaf(params, "bias_hh")); // shape: [4H]
  const projected = add(matmul(x, transpose(leaf(params, "weight_ih"), [1, 0])), bias); // shape: [batch, steps, 4H]
  const whhT = transpose(leaf(params, "weight_hh"), [1, 0]); // shape: [H, 4H]
  const zero = zerosLike(slice(squeeze(slice(projected, 1, 0, 1), [1]), 1, 0, hidden)); // shape: [batch, H]
  const { carry, ys } = scan(
    ([h, c], [gatesIn, keep]) => {
      const state = h as Tensor;
      const cell = c as Tensor;
      const gates = add(gatesIn as Tensor, matmul(state, whhT)); // shape: [batch, 4H]
      const i = sigmoid(slice(gates, 1, 0, hidden));
      const f = sigmoid(slice(gates, 1, hidden, 2 * hidden));
      const g = tanh(slice(gates, 1, 2 * hidden, 3 * hidden));
      const o = sigmoid(slice(gates, 1, 3 * hidden, 4 * hidden));
      const cNew = add(mul(f, cell), mul(i, g)); // shape: [batch, H]
      const hNew = mul(o, tanh(cNew));
      const on = unsqueeze(keep as Tensor, [-1]); // shape: [batch, 1]
      return {
        carry: [where(on, hNew, state), where(on, cNew, cell)],
        ys: [where(on, hNew, 0)],
      };
    },
    [zero, zero],
    [projected, mask],
    { axis: 1, reverse },
  );
  return { ys: ys[0] as Tensor, last: carry[0] as Tensor };
}

/**
 * A multi-layer, optionally bidirectional LSTM over padded batches, the same model as torch's
 * `nn.LSTM(batch_first=True)` on packed sequences: parameters in torch's layout and gate order
 * (`l<k>.forward.weight_ih [4H, in]`, `weight_hh [4H, H]`, `bias_ih`, `bias_hh`; `l<k>.backward.*`
 * for the reversed direction), initialised U(±1/√H) as torch's. Initial states are zero.
 */
export class BiLstm implements Module<LstmInput, LstmOutput> {
  readonly parameters: ParameterTree;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly layers: number;
  readonly bidirectional: boolean;
  readonly dropout: number;
  readonly seed: number;

  constructor(options: BiLstmOptions) {
    positive("options.inputSize", options.inputSize);
    positive("options.hiddenSize", options.hiddenSize);
    positive("options.layers", options.layers ?? 1);
    const rate = options.dropout ?? 0;
    if (!(rate >= 0 && rate < 1))
      throw new HeadsError("BiLstm", "options.dropout", "a number in [0, 1)", String(rate));
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    this.layers = options.layers ?? 1;
    this.bidirectional = options.bidirectional ?? true;
    this.dropout = rate;
    this.seed = options.seed ?? 0;
    const H = this.hiddenSize;
    const bound = 1 / Math.sqrt(H);
    const dtype = options.dtype ?? "float32";
    const init = uniform(-bound, bound);
    const directions = this.bidirectional ? DIRECTIONS : DIRECTIONS.slice(0, 1);
    const tree: Record<string, ParameterTree> = {};
    for (let layer = 0; layer < this.layers; layer += 1) {
      const inputs = layer === 0 ? this.inputSize : H * directions.length;
      tree[`l${layer}`] = Object.fromEntries(
        directions.map((direction) => [
          direction,
          {
            weight_ih: new Parameter([4 * H, inputs], { init, dtype }),
            weight_hh: new Parameter([4 * H, H], { init, dtype }),
            bias_ih: new Parameter([4 * H], { init, dtype, decay: false }),
            bias_hh: new Parameter([4 * H], { init, dtype, decay: false }),
          },
        ]),
      );
    }
    this.parameters = tree;
  }

  /** Features of each output step: `hiddenSize` times the number of directions. */
  get outputSize(): number {
    return this.hiddenSize * (this.bidirectional ? 2 : 1);
  }

  forward(params: TensorTree, input: LstmInput, context: ForwardContext): LstmOutput {
    const { x, mask } = input;
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new HeadsError(
        "BiLstm.forward",
        "x",
        `[batch, steps, ${this.inputSize}]`,
        `[${x.shape.join(", ")}]`,
      );
    }
    if (mask.dtype !== "bool" || mask.rank !== 2)
      throw new HeadsError(
        "BiLstm.forward",
        "mask",
        "a bool [batch, steps] tensor",
        `${mask.dtype} of rank ${mask.rank}`,
      );
    const layers: Tensor[] = [];
    const hidden: Tensor[] = [];
    let h = x;
    for (let layer = 0; layer < this.layers; layer += 1) {
      if (layer > 0) h = dropout(h, this.dropout, this.seed + layer, context.training);
      const layerParams = subtree(params, `l${layer}`);
      const forward = runDirection(subtree(layerParams, "forward"), h, mask, this.hiddenSize, false);
      hidden.push(forward.last);
      if (this.bidirectional) {
        const backward = runDirection(subtree(layerParams, "backward"), h, mask, this.hiddenSize, true);
        hidden.push(backward.last);
        h = concat([forward.ys, backward.ys], 2); // shape: [batch, steps, 2H]
      } else {
        h = forward.ys;
      }
      layers.push(h);
    }
    return { output: h, layers, hidden };
  }
}
