import {
  add,
  apply1,
  concat,
  type Graph,
  gather,
  mul,
  type Primitive,
  reshape,
  slice,
  type Tensor,
} from "@xlt/graph";
import { PeftError } from "./errors.js";
import { DOUBLE_QUANT_BLOCK_SIZE, dynamicMap, NF4_CODE, type Nf4Tensor } from "./nf4.js";

interface UnpackAttributes {
  /** Each 32-bit word yields `divisors.length` fields: `(word / divisor) mod modulus`. */
  readonly divisors: readonly number[];
  readonly modulus: number;
  /** Fields kept (the last word may be padding). */
  readonly count: number;
}

/**
 * int32 words (the packed bytes, little-endian, 4 to a word) → int64 fields. `@xlt/graph` has no
 * uint8 dtype, so packed bytes travel as int32 initializers of the same bytes; ONNX's unsigned
 * Cast, integer Div and Mod take the fields apart. No gradient: the result indexes constants.
 *
 * Inputs: the words, an anchor (a runtime tensor, the layer's input) and a zero of the anchor's
 * dtype. The words get `+ 0` computed from the anchor's first value (`a < a` is false, even for
 * NaN), so the decoding depends on a run-time value: ORT's constant folding would otherwise
 * precompute the whole dequantised weight at session creation and keep it in float32, losing the
 * 4-bit storage. (The zero constant makes an empty anchor still give one value.)
 */
const UnpackWords: Primitive<UnpackAttributes> = {
  name: "UnpackWords",
  infer: (_inputs, attrs) => [{ dtype: "int64", shape: [attrs.count] }],
  emit(context, [words, anchor, zero], [out], attrs) {
    const name = (hint: string) => context.fresh(hint);
    const [flatAnchor, first, both, head, never, runtimeZero, live] = [
      "flatAnchor",
      "first",
      "both",
      "head",
      "never",
      "runtimeZero",
      "live",
    ].map(name) as [string, string, string, string, string, string, string];
    context.node("Reshape", [anchor as string, context.int64([-1])], [flatAnchor]);
    context.node("Slice", [flatAnchor, context.int64([0]), context.int64([1]), context.int64([0])], [first]);
    context.node("Concat", [first, zero as string], [both], { axis: { int: 0 } });
    context.node("Slice", [both, context.int64([0]), context.int64([1]), context.int64([0])], [head]);
    context.node("Less", [head, head], [never]);
    context.node("Cast", [never], [runtimeZero], { to: { int: 6 } }); // INT32
    context.node("Add", [words as string, runtimeZero], [live]);
    const unsigned = name("unsigned");
    const wide = name("wide");
    const column = name("column");
    const shifted = name("shifted");
    const fields = name("fields");
    const flat = name("flat");
    context.node("Cast", [live], [unsigned], { to: { int: 12 } }); // UINT32: x mod 2³²
    context.node("Cast", [unsigned], [wide], { to: { int: 7 } }); // INT64
    context.node("Reshape", [wide, context.int64([-1, 1])], [column]);
    context.node("Div", [column, context.int64(attrs.divisors)], [shifted]);
    context.node("Mod", [shifted, context.int64([attrs.modulus])], [fields]);
    context.node("Reshape", [fields, context.int64([-1])], [flat]);
    context.node(
      "Slice",
      [flat, context.int64([0]), context.int64([attrs.count]), context.int64([0])],
      [out as string],
    );
  },
};

/** The bytes as int32 words (little-endian), zero-padded to a multiple of 4. */
function words(bytes: Uint8Array): Int32Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return new Int32Array(padded.buffer);
}

/** Nibbles of a word in element order: byte j's high nibble (element 2j) first, then its low nibble. */
const NIBBLE_DIVISORS = [4, 0, 12, 8, 20, 16, 28, 24].map((bits) => 2 ** bits);
const BYTE_DIVISORS = [0, 8, 16, 24].map((bits) => 2 ** bits);

/** `values[i] · scales[⌊i / block⌋]` for a flat `values` of `count` entries. */
function scaleBlocks(graph: Graph, values: Tensor, scales: Tensor, count: number, block: number): Tensor {
  const blocks = Math.ceil(count / block);
  const padding = blocks * block - count;
  const padded =
    padding === 0 ? values : concat([values, graph.constant(new Float32Array(padding), [padding])], 0);
  const scaled = mul(reshape(padded, [blocks, block]), reshape(scales, [blocks, 1])); // shape: [blocks, block]
  const flat = reshape(scaled, [-1]);
  return padding === 0 ? flat : slice(flat, 0, 0, count);
}

/**
 * The NF4 tensor dequantised inside the anchor's graph, as bitsandbytes' `dequantize_4bit` computes
 * it (`NF4_CODE[code] · absmax[block]` in float32, the absmax first dequantised from its 8-bit codes
 * under double quantisation). The packed codes (and 8-bit absmax codes) are stored as int32
 * initializers of the same bytes; a 16-entry codebook `Gather` decodes them. No DequantizeLinear is
 * involved, so ORT's DequantizeLinear→MatMul fusion to MatMulNBits (and its lower accuracy level)
 * cannot occur. `anchor` (the layer's input, a float tensor computed at run time) keeps ORT from
 * constant-folding the decoding into a float32 weight when it creates the session.
 */
export function dequantizeInGraph(tensor: Nf4Tensor, anchor: Tensor): Tensor {
  if (anchor.dtype !== "float32" && anchor.dtype !== "float64")
    throw new PeftError("dequantizeInGraph", "anchor", "a float32 or float64 tensor", anchor.dtype);
  const graph = anchor.graph;
  const count = tensor.shape.reduce((product, dim) => product * dim, 1);
  const zero = graph.constant(anchor.dtype === "float64" ? new Float64Array(1) : new Float32Array(1), [1]);
  const packed = words(tensor.packed);
  const codes = apply1(UnpackWords, [graph.constant(packed, [packed.length]), anchor, zero], {
    divisors: NIBBLE_DIVISORS,
    modulus: 16,
    count,
  }); // shape: [count]
  const values = gather(graph.constant(NF4_CODE, [16]), codes); // shape: [count]
  let absmax: Tensor;
  if (tensor.absmax) absmax = graph.constant(tensor.absmax, [tensor.absmax.length]);
  else {
    const dq = tensor.doubleQuant;
    if (!dq) throw new PeftError("dequantizeInGraph", "tensor", "absmax or doubleQuant", "neither");
    const blocks = dq.codes.length;
    const packedCodes = words(dq.codes);
    const indices = apply1(UnpackWords, [graph.constant(packedCodes, [packedCodes.length]), anchor, zero], {
      divisors: BYTE_DIVISORS,
      modulus: 256,
      count: blocks,
    });
    const centred = gather(graph.constant(dynamicMap(), [256]), indices); // shape: [blocks]
    const scales = graph.constant(dq.absmax, [dq.absmax.length]);
    absmax = add(
      scaleBlocks(graph, centred, scales, blocks, DOUBLE_QUANT_BLOCK_SIZE),
      graph.constant(Float32Array.of(dq.offset), [1]),
    );
  }
  return reshape(scaleBlocks(graph, values, absmax, count, tensor.blockSize), [...tensor.shape]);
}
