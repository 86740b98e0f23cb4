export { grad, sumTo, vjp } from "./autodiff.js";
export { checkpoint } from "./checkpoint.js";
export {
  count,
  crossEntropy,
  dropout,
  gelu,
  geluTanh,
  layerNorm,
  logSoftmax,
  logSumExp,
  mean,
  oneHot,
  relu,
  softmax,
} from "./composites.js";
export { type CrfTensors, crfNll } from "./crf.js";
export { cumsum } from "./cumsum.js";
export {
  DTYPE_BYTES,
  type DType,
  type DTypeArrayMap,
  isFloat,
  ONNX_DTYPE,
  type TensorData,
} from "./dtype.js";
export { dump } from "./dump.js";
export {
  add,
  and,
  cast,
  div,
  equal,
  erf,
  exp,
  greater,
  less,
  log,
  mul,
  neg,
  not,
  type Operand,
  or,
  randomUniformLike,
  scalarLike,
  sigmoid,
  sqrt,
  stopGradient,
  sub,
  tanh,
  where,
} from "./elementwise.js";
export { GraphError } from "./errors.js";
export { createSession, evaluate, fromOrtTensor, type TensorValue, toOrtTensor } from "./evaluate.js";
export {
  apply,
  apply1,
  type Body,
  type Dim,
  type EmitContext,
  Graph,
  type Node,
  type OnnxAttribute,
  type Primitive,
  type Shape,
  staticSize,
  Tensor,
  type TensorSource,
  type TensorType,
  type VjpArguments,
} from "./graph.js";
export { concat, gather, pad, scatterAdd, slice, split } from "./indexing.js";
export { hashUniformLike } from "./noise.js";
export {
  type ExternalData,
  IR_VERSION,
  type OnnxModel,
  OPSET,
  type ToOnnxOptions,
  toOnnx,
  type ValueSignature,
} from "./onnx.js";
export { type ScanOptions, type ScanResult, type ScanStep, scan } from "./scan.js";
export {
  broadcastTo,
  matmul,
  onesLike,
  reduceMax,
  reduceSum,
  reshape,
  shapeOf,
  squeeze,
  transpose,
  transposeLast,
  unsqueeze,
  zerosLike,
} from "./structural.js";
