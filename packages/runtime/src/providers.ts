import * as ort from "onnxruntime-node";
import { RuntimeError } from "./errors.js";

/** Where sessions run. */
export type ExecutionProvider = "cpu" | "cuda" | "webgpu";

export interface SessionConfig {
  /** Default `"cpu"`. A provider that is not installed is an error, never a silent fallback. */
  readonly executionProvider?: ExecutionProvider;
  /** Intra-op threads (default: ORT's choice). */
  readonly threads?: number;
}

const INSTALL: Readonly<Record<ExecutionProvider, string>> = {
  cpu: "nothing (bundled)",
  cuda: "CUDA 12 and cuDNN 9 on the host, then `npm install onnxruntime-node --onnxruntime-node-install=cuda12`",
  webgpu: "a WebGPU adapter (GPU driver with Vulkan/Metal/D3D12)",
};

/** ORT session options for a config, validated (ORT itself ignores unknown keys). */
export function sessionOptions(config: SessionConfig): ort.InferenceSession.SessionOptions {
  const provider = config.executionProvider ?? "cpu";
  if (!Object.hasOwn(INSTALL, provider))
    throw new RuntimeError(
      "sessionOptions",
      "executionProvider",
      '"cpu", "cuda" or "webgpu"',
      JSON.stringify(provider),
    );
  if (config.threads !== undefined && !(Number.isInteger(config.threads) && config.threads >= 1)) {
    throw new RuntimeError("sessionOptions", "threads", "a positive integer", String(config.threads));
  }
  return {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    // ORT fuses DequantizeLinear(int4) + MatMul into MatMulNBits at a lower accuracy level (error
    // ~2e-2) unless told otherwise: 4-bit base weights (QLoRA) must stay exact.
    extra: { session: { qdq_matmulnbits_accuracy_level: "0" } },
    ...(config.threads !== undefined ? { intraOpNumThreads: config.threads, interOpNumThreads: 1 } : {}),
  };
}

/** Creates a session, turning a missing provider into an error that names what to install. */
export async function createSession(
  model: { readonly bytes: Uint8Array; readonly externalData: readonly { path: string; data: Uint8Array }[] },
  config: SessionConfig,
): Promise<ort.InferenceSession> {
  const options = sessionOptions(config);
  const provider = config.executionProvider ?? "cpu";
  try {
    return await ort.InferenceSession.create(model.bytes, {
      ...options,
      externalData: [...model.externalData],
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (provider !== "cpu" && /shared library|adapter|provider|backend/i.test(message)) {
      throw new RuntimeError(
        "createSession",
        "executionProvider",
        `an installed ${provider} provider (needs ${INSTALL[provider]})`,
        message,
      );
    }
    throw error;
  }
}
