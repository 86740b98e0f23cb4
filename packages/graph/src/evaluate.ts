import * as ort from "onnxruntime-node";
import type { DType, TensorData } from "./dtype.js";
import { GraphError } from "./errors.js";
import type { Tensor } from "./graph.js";
import { type OnnxModel, type ToOnnxOptions, toOnnx } from "./onnx.js";

/** A tensor value: anything shaped like `{ data, dims }` (an onnxruntime `Tensor`, for one). */
export interface TensorValue {
  readonly data: TensorData;
  readonly dims: readonly number[];
}

/** Creates an onnxruntime-node session for a serialised model on the CPU. */
export async function createSession(
  model: OnnxModel,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model.bytes, {
    ...options,
    externalData: model.externalData.map((blob) => ({ path: blob.path, data: blob.data })),
  });
}

/** Wraps a value as an onnxruntime tensor of the given dtype (no copy). */
export function toOrtTensor(dtype: DType, value: TensorValue): ort.Tensor {
  return new ort.Tensor(dtype, value.data, [...value.dims]);
}

/** Reads an onnxruntime tensor back as `{ data, dims }`. */
export function fromOrtTensor(tensor: ort.Tensor): TensorValue {
  const data = tensor.data;
  if (
    data instanceof Float32Array ||
    data instanceof Float64Array ||
    data instanceof BigInt64Array ||
    data instanceof Int32Array ||
    data instanceof Uint8Array
  ) {
    return { data, dims: tensor.dims };
  }
  throw new GraphError("fromOrtTensor", "tensor", "float32, float64, int64, int32 or bool data", tensor.type);
}

/**
 * Serialises `outputs`, runs them once on onnxruntime-node with `feeds` (by input name) and returns
 * the results by output name. For tests and debugging; training uses long-lived sessions.
 */
export async function evaluate(
  outputs: Readonly<Record<string, Tensor>>,
  feeds: Readonly<Record<string, TensorValue>>,
  options: ToOnnxOptions = {},
): Promise<Record<string, TensorValue>> {
  const model = toOnnx(outputs, options);
  const session = await createSession(model);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const input of model.inputs) {
      const value = feeds[input.name];
      if (!value)
        throw new GraphError("evaluate", `feeds.${input.name}`, `a ${input.dtype} tensor`, "nothing");
      ortFeeds[input.name] = toOrtTensor(input.dtype, value);
    }
    const results = await session.run(ortFeeds);
    const values: Record<string, TensorValue> = {};
    for (const output of model.outputs)
      values[output.name] = fromOrtTensor(results[output.name] as ort.Tensor);
    return values;
  } finally {
    await session.release();
  }
}
