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
 */
const UnpackWords: Primitive<UnpackAttributes> = {
  name: "UnpackWords",
  infer: (_inputs, attrs) => [{ dtype: "int64", shape: [attrs.count] }],
  emit(context, [words], [out], attrs) {
    const unsigned = context.fresh("unsigned");
    const wide = context.fresh("wide");
    const column = context.fresh("column");
    const shifted = context.fresh("shifted");
    const fields = context.fresh("fields");
    const flat = context.fresh("flat");
    context.node("Cast", [words as string], [unsigned], { to: { int: 12 } }); // UINT32: x mod 2³²
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
 * The NF4 tensor dequantised inside `graph`, as bitsandbytes' `dequantize_4bit` computes it
 * (`NF4_CODE[code] · absmax[block]` in float32, the absmax first dequantised from its 8-bit codes
 * under double quantisation). The packed codes (and 8-bit absmax codes) are stored as int32
 * initializers of the same bytes, a 16-entry codebook `Gather` decodes them: no DequantizeLinear,
 * so ORT's DequantizeLinear→MatMul fusion to MatMulNBits (and its lower accuracy level) cannot occur.
 */
export function dequantizeInGraph(graph: Graph, tensor: Nf4Tensor): Tensor {
  const count = tensor.shape.reduce((product, dim) => product * dim, 1);
  const packed = words(tensor.packed);
  const codes = apply1(UnpackWords, [graph.constant(packed, [packed.length])], {
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
    const indices = apply1(UnpackWords, [graph.constant(packedCodes, [packedCodes.length])], {
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
