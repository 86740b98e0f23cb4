import {
  add,
  cast,
  concat,
  cumsum,
  dropout,
  gather,
  greater,
  matmul,
  mul,
  onesLike,
  reduceSum,
  reshape,
  scan,
  sigmoid,
  slice,
  split,
  squeeze,
  sub,
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

/** `tensors` stacked along a new axis. */
const stack = (tensors: readonly Tensor[], axis: number): Tensor =>
  concat(
    tensors.map((t) => unsqueeze(t, [axis])),
    axis,
  );

/** Row indices that move a batch between its batch-first and its per-direction time-major layouts. */
interface Layout {
  /** Rows of the projected inputs (flattened `[batch·steps·D, 4H]`) each direction reads at each step. shape: [steps, D, batch] */
  readonly read: Tensor;
  /** Rows of the stacked outputs (flattened `[steps·D·batch, H]`) for each position and direction. shape: [batch, steps, D] */
  readonly write: Tensor;
  /** Rows of the stacked outputs holding each direction's last real step. shape: [batch, D] */
  readonly last: Tensor;
}

/**
 * The backward direction reads every sequence reversed within its own length (step s of row b is
 * position `length_b − 1 − s`; padding stays in place, after the real steps), so both directions
 * run forwards over the same mask, in one Scan, with their states stacked `[D, batch, H]`.
 */
function layout(mask: Tensor, directions: number): Layout {
  const real = cast(mask, "int64"); // shape: [batch, steps]
  const ones = onesLike(real);
  const position = sub(cumsum(ones, 1), 1); // shape: [batch, steps]
  const row = sub(cumsum(ones, 0), 1); // shape: [batch, steps]
  const steps = reduceSum(ones, [1], true); // shape: [batch, 1]
  const batch = slice(reduceSum(ones, [0], true), 1, 0, 1); // shape: [1, 1]
  const length = reduceSum(real, [1], true); // shape: [batch, 1]
  const reversed = where(mask, sub(sub(length, 1), position), position); // shape: [batch, steps]
  const order = [position, reversed].slice(0, directions);
  const read = transpose(
    stack(
      order.map((s, d) => add(mul(add(mul(row, steps), s), directions), d)),
      0,
    ),
    [2, 0, 1],
  );
  const write = stack(
    order.map((s, d) => add(mul(add(mul(s, directions), d), batch), row)),
    -1,
  );
  const final = where(greater(length, 0), sub(length, 1), 0); // shape: [batch, 1]
  const rowOfBatch = slice(row, 1, 0, 1); // shape: [batch, 1]
  const last = concat(
    order.map((_, d) => add(mul(add(mul(final, directions), d), batch), rowOfBatch)),
    1,
  );
  return { read, write, last };
}

/**
 * One layer, all directions at once (Hochreiter & Schmidhuber 1997, with a forget gate as torch's):
 * i, f, g, o = σ, σ, tanh, σ of `x_t·W_ihᵀ + h·W_hhᵀ + b_ih + b_hh` (torch's gate order), then
 * `c' = f·c + i·g`, `h' = o·tanh(c')`. The input projection of every step and direction is one
 * MatMul outside the loop; the recurrence is one ONNX Scan over `[D, batch, ·]` states, so its
 * gradient is one reversed Scan (backpropagation through time). Padded steps come after the real
 * ones in both directions and output 0; the states they go on to compute are never read (the
 * final states are gathered at each row's last real step), so they affect neither outputs nor
 * gradients.
 */
function runLayer(
  params: readonly TensorTree[],
  x: Tensor,
  mask: Tensor,
  at: Layout,
  hidden: number,
): { ys: Tensor; last: readonly Tensor[] } {
  const D = params.length;
  const features = x.shape[2] as number;
  // Every direction's input projection of every step is one product with the directions' weights
  // side by side; the Scan's per-step inputs are then gathered out of it, each direction in its order.
  const weights = concat(
    params.map((p) => transpose(leaf(p, "weight_ih"), [1, 0])),
    1,
  ); // shape: [F, D·4H]
  const bias = concat(
    params.map((p) => add(leaf(p, "bias_ih"), leaf(p, "bias_hh"))),
    0,
  ); // shape: [D·4H]
  const projected = add(matmul(reshape(x, [-1, features]), weights), bias); // shape: [batch·steps, D·4H]
  // Each (step, direction, row) reads its own row: a permutation, so the gradient needs no
  // duplicate-safe scatter.
  const inputs = gather(reshape(projected, [-1, 4 * hidden]), at.read, { unique: true }); // shape: [steps, D, batch, 4H]
  const whhT = stack(
    params.map((p) => transpose(leaf(p, "weight_hh"), [1, 0])),
    0,
  ); // shape: [D, H, 4H]
  const on = unsqueeze(transpose(mask, [1, 0]), [1, 3]); // shape: [steps, 1, batch, 1]
  const zero = zerosLike(slice(squeeze(slice(inputs, 0, 0, 1), [0]), -1, 0, hidden)); // shape: [D, batch, H]
  const { ys } = scan(
    ([h, c], [xt, keep]) => {
      const pre = add(xt as Tensor, matmul(h as Tensor, whhT)); // shape: [D, batch, 4H]
      const part = [...pre.shape.slice(0, -1), hidden];
      const sizes = pre.graph.constant(
        BigInt64Array.from([0, 1, 2, 3], () => BigInt(hidden)),
        [4],
      );
      const [gi, gf, gg, go] = split(pre, sizes, -1, [part, part, part, part]) as [
        Tensor,
        Tensor,
        Tensor,
        Tensor,
      ];
      const cNew = add(mul(sigmoid(gf), c as Tensor), mul(sigmoid(gi), tanh(gg))); // shape: [D, batch, H]
      const hNew = mul(sigmoid(go), tanh(cNew));
      return { carry: [hNew, cNew], ys: [where(keep as Tensor, hNew, 0)] };
    },
    [zero, zero],
    [inputs, on],
  );
  const stacked = reshape(ys[0] as Tensor, [-1, hidden]); // shape: [steps·D·batch, H]
  const out = reshape(gather(stacked, at.write, { unique: true }), [0, 0, D * hidden]); // shape: [batch, steps, D·H]
  const final = gather(stacked, at.last, { unique: true }); // shape: [batch, D, H]
  return { ys: out, last: params.map((_, d) => squeeze(slice(final, 1, d, d + 1), [1])) };
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
    const directions = this.bidirectional ? DIRECTIONS : DIRECTIONS.slice(0, 1);
    const at = layout(mask, directions.length);
    let h = x;
    for (let layer = 0; layer < this.layers; layer += 1) {
      if (layer > 0)
        h = dropout(h, this.dropout, dropoutSeed(this.seed, layer), context.training, context.key);
      const layerParams = subtree(params, `l${layer}`);
      const result = runLayer(
        directions.map((direction) => subtree(layerParams, direction)),
        h,
        mask,
        at,
        this.hiddenSize,
      );
      hidden.push(...result.last);
      h = result.ys; // shape: [batch, steps, directions·H]
      layers.push(h);
    }
    return { output: h, layers, hidden };
  }
}
