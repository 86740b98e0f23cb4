import { add, Graph, toOnnx } from "@xlt/graph";
import { listSupportedBackends } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { createSession, type ExecutionProvider, sessionOptions } from "./providers.js";

describe("execution providers", () => {
  it("cpu by default, threads validated", () => {
    expect(sessionOptions({}).executionProviders).toEqual(["cpu"]);
    expect(sessionOptions({}).extra).toEqual({ session: { qdq_matmulnbits_accuracy_level: "0" } });
    expect(sessionOptions({ threads: 2 }).intraOpNumThreads).toBe(2);
    expect(() => sessionOptions({ threads: 0 })).toThrow(
      "sessionOptions: threads: expected a positive integer, got 0",
    );
    const unknown = "tpu" as ExecutionProvider;
    expect(() => sessionOptions({ executionProvider: unknown })).toThrow(
      'sessionOptions: executionProvider: expected "cpu", "cuda" or "webgpu", got "tpu"',
    );
    for (const inherited of ["toString", "constructor", "__proto__"]) {
      expect(() => sessionOptions({ executionProvider: inherited as ExecutionProvider })).toThrow(
        `sessionOptions: executionProvider: expected "cpu", "cuda" or "webgpu", got "${inherited}"`,
      );
    }
  });

  it("a provider that is not installed is an error naming the install command, not a fallback", async () => {
    const cuda = listSupportedBackends().find((backend) => backend.name === "cuda");
    if (cuda?.bundled) return;
    const graph = new Graph();
    const model = toOnnx({ y: add(graph.input("x", "float32", [1]), 1) });
    const webgpu = await createSession(model, { executionProvider: "webgpu" }).then(
      (session) => session.release().then(() => null),
      (error: unknown) => error,
    );
    // With no WebGPU adapter (as on CI) the error names what is missing instead of falling back.
    if (webgpu !== null)
      expect(String(webgpu)).toContain(
        "createSession: executionProvider: expected an installed webgpu provider (needs a WebGPU adapter",
      );
    await expect(createSession(model, { executionProvider: "cuda" })).rejects.toThrow(
      "createSession: executionProvider: expected an installed cuda provider (needs CUDA 12 and cuDNN 9 on the host, then `npm install onnxruntime-node --onnxruntime-node-install=cuda12`)",
    );
  });
});
