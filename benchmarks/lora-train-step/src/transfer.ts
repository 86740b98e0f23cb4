import * as ort from "onnxruntime-node";

/** What a tensor crossing the JS/ORT boundary is, by its ONNX name. */
export type TransferKind = "batch" | "parameters" | "optimizer state" | "scalars";

/** Bytes of one `session.run`: what went in (feeds) and came out (fetched outputs), by kind. */
export interface Transfer {
  readonly in: Record<TransferKind, number>;
  readonly out: Record<TransferKind, number>;
}

const empty = (): Record<TransferKind, number> => ({
  batch: 0,
  parameters: 0,
  "optimizer state": 0,
  scalars: 0,
});

/**
 * The kind of a tensor named as `@xlt/runtime`'s training graph names them: a batch input, a
 * trainable parameter (its path; `next:<path>` out), optimizer state (`<slot>:<path>`;
 * `next:<slot>:<path>` out), or a scalar (step, learning rates, weight decays, dropout key, loss,
 * gradient norm).
 */
export function transferKind(
  name: string,
  batchInputs: ReadonlySet<string>,
  trainable: ReadonlySet<string>,
): TransferKind {
  if (batchInputs.has(name)) return "batch";
  const bare = name.startsWith("next:") ? name.slice("next:".length) : name;
  if (trainable.has(bare)) return "parameters";
  const colon = bare.indexOf(":");
  if (colon > 0 && trainable.has(bare.slice(colon + 1))) return "optimizer state";
  return "scalars";
}

/** Bytes of a tensor's data as it lies in JS memory. */
const bytesOf = (tensor: ort.Tensor): number => {
  const data = tensor.data;
  return ArrayBuffer.isView(data) ? data.byteLength : 0;
};

type Run = (
  this: ort.InferenceSession,
  feeds: ort.InferenceSession.FeedsType,
  ...rest: unknown[]
) => Promise<ort.InferenceSession.ReturnType>;

/**
 * Records every `InferenceSession.run` of onnxruntime-node while `body` runs (the same module
 * instance `@xlt/runtime` loads: the workspace has one copy): the bytes of each feed and of each
 * returned output, by kind. The sessions' own calls are counted, not a formula; `run` is restored
 * afterwards.
 */
export async function recordTransfers<T>(
  batchInputs: ReadonlySet<string>,
  trainable: ReadonlySet<string>,
  body: () => Promise<T>,
): Promise<{ result: T; transfers: Transfer[] }> {
  const prototype: { run: Run } = Reflect.get(ort.InferenceSession, "prototype");
  const original = prototype.run;
  const transfers: Transfer[] = [];
  prototype.run = async function (this: ort.InferenceSession, feeds, ...rest) {
    const results = await original.call(this, feeds, ...rest);
    const transfer = { in: empty(), out: empty() };
    for (const [name, tensor] of Object.entries(feeds))
      transfer.in[transferKind(name, batchInputs, trainable)] += bytesOf(tensor);
    for (const [name, tensor] of Object.entries(results))
      transfer.out[transferKind(name, batchInputs, trainable)] += bytesOf(tensor);
    transfers.push(transfer);
    return results;
  };
  try {
    return { result: await body(), transfers };
  } finally {
    prototype.run = original;
  }
}

/** The sum of a transfer's bytes in each direction. */
export const totals = (transfer: Transfer): { in: number; out: number } => ({
  in: Object.values(transfer.in).reduce((sum, bytes) => sum + bytes, 0),
  out: Object.values(transfer.out).reduce((sum, bytes) => sum + bytes, 0),
});
