/** Element types a graph tensor can hold. */
export type DType = "float32" | "float64" | "int64" | "int32" | "bool";

/** The typed array that carries each dtype's data across the JS boundary. */
export interface DTypeArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** ONNX `TensorProto.DataType` code of each dtype. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  float64: 11,
  int64: 7,
  int32: 6,
  bool: 9,
};

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  bool: 1,
};

/** Whether gradients flow through values of this dtype. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** Any typed array a tensor of some dtype can hold. */
export type TensorData = DTypeArrayMap[DType];
