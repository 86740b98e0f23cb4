import {
  add,
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
import { checkDropoutSeed, DROPOUT_SITES, dropoutSeed } from "./dropout-seeds.js";
import { HeadsError } from "./errors.js";
import { joinLast } from "./join.js";

export interface BiLstmOptions {
  /** Features of each input step. */
  readonly inputSize: number;
  /** Hidden units per direction. */
  readonly hiddenSize: number;
  /** Stacked layers (default 1). */
  readonly layers?: number;
  /** Run a second, reversed LSTM and concatenate (default true). */
  readonly bidirectional?: boolean;
  /**
   * Dropout on each layer's output before the next layer, as torch's `nn.LSTM` (default 0); masks
   * keyed by `context.key` (the optimizer step) when given, so they replay exactly on resume.
   */
  readonly dropout?: number;
  /**
   * Seed of the dropout masks (default 0), an integer in [0, `MAX_DROPOUT_SEED`]: the input
   * of layer `l ≥ 1` is dropped with seed `dropoutSeed(seed, l)` (see {@link DROPOUT_SITES}).
   */
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
  // The gates are split outside the loop (scanned inputs and captured weights, one per gate) rather
  // than sliced inside it: the gradient of a Slice is a Pad to a runtime shape, and ORT's Scan needs
  // every per-step output's shape inferable, which a Pad by computed pads is not.
  const gate = (t: Tensor, index: number) => slice(t, -1, index * hidden, (index + 1) * hidden);
  const inputs = [0, 1, 2, 3].map((index) => gate(projected, index)); // shape of each: [batch, steps, H]
  const recurrent = [0, 1, 2, 3].map((index) => gate(whhT, index)); // shape of each: [H, H]
  const zero = zerosLike(squeeze(slice(inputs[0] as Tensor, 1, 0, 1), [1])); // shape: [batch, H]
  const { carry, ys } = scan(
    ([h, c], [xi, xf, xg, xo, keep]) => {
      const state = h as Tensor;
      const cell = c as Tensor;
      const pre = [xi, xf, xg, xo].map((xt, index) =>
        add(xt as Tensor, matmul(state, recurrent[index] as Tensor)),
      ); // shape of each: [batch, H]
      const [i, f, o] = [pre[0], pre[1], pre[3]].map((t) => sigmoid(t as Tensor)) as [Tensor, Tensor, Tensor];
      const g = tanh(pre[2] as Tensor);
      const cNew = add(mul(f, cell), mul(i, g)); // shape: [batch, H]
      const hNew = mul(o, tanh(cNew));
      const on = unsqueeze(keep as Tensor, [-1]); // shape: [batch, 1]
      return {
        carry: [where(on, hNew, state), where(on, cNew, cell)],
        ys: [where(on, hNew, 0)],
      };
    },
    [zero, zero],
    [...inputs, mask],
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
    if ((options.layers ?? 1) >= DROPOUT_SITES)
      throw new HeadsError("BiLstm", "options.layers", `fewer than ${DROPOUT_SITES}`, String(options.layers));
    checkDropoutSeed("BiLstm", "options.seed", options.seed ?? 0);
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
      if (layer > 0)
        h = dropout(h, this.dropout, dropoutSeed(this.seed, layer), context.training, context.key);
      const layerParams = subtree(params, `l${layer}`);
      const forward = runDirection(subtree(layerParams, "forward"), h, mask, this.hiddenSize, false);
      hidden.push(forward.last);
      if (this.bidirectional) {
        const backward = runDirection(subtree(layerParams, "backward"), h, mask, this.hiddenSize, true);
        hidden.push(backward.last);
        h = joinLast([forward.ys, backward.ys]); // shape: [batch, steps, 2H]
      } else {
        h = forward.ys;
      }
      layers.push(h);
    }
    return { output: h, layers, hidden };
  }
}
