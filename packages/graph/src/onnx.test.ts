import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { dump } from "./dump.js";
import { add } from "./elementwise.js";
import { evaluate } from "./evaluate.js";
import { Graph, type Tensor } from "./graph.js";
import { IR_VERSION, OPSET, toOnnx } from "./onnx.js";
import { scan } from "./scan.js";
import { matmul, reduceSum } from "./structural.js";
import { values } from "./test-utils/check-grads.js";

describe("toOnnx", () => {
  it("writes one opset and IR version, declares symbolic inputs, names outputs", () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", ["batch", 2]);
    const model = toOnnx({ y: add(x, 1) });
    const decoded = onnxProto.onnx.ModelProto.decode(model.bytes);
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", OPSET]]);
    expect(Number(decoded.irVersion)).toBe(IR_VERSION);
    expect(OPSET).toBeGreaterThanOrEqual(20);
    expect(OPSET).toBeLessThanOrEqual(26);
    expect(
      decoded.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue)),
    ).toEqual(["batch", 2]);
    expect(decoded.graph?.output?.map((o) => o.name)).toEqual(["y"]);
    expect(model.inputs).toEqual([{ name: "x", dtype: "float32", shape: ["batch", 2] }]);
  });

  it("names node outputs after the graph outputs instead of copying them with Identity", async () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", [2]);
    const y = add(x, 1);
    const z = add(y, 1);
    const model = toOnnx({ y, again: y, z, passthrough: x });
    const decoded = onnxProto.onnx.ModelProto.decode(model.bytes);
    // Two Adds; Identity only for the repeated output and for the input passed straight through.
    expect(decoded.graph?.node?.map((node) => node.opType)).toEqual(["Add", "Add", "Identity", "Identity"]);
    const result = await evaluate(
      { y, again: y, z, passthrough: x },
      { x: { data: Float32Array.of(1, 2), dims: [2] } },
    );
    expect([values(result.y), values(result.again), values(result.z), values(result.passthrough)]).toEqual([
      [2, 3],
      [2, 3],
      [3, 4],
      [1, 2],
    ]);
  });

  it("moves large initializers to external data and ORT reads them back", async () => {
    const graph = new Graph();
    const n = 1024;
    const weights = Float32Array.from({ length: n * 2 }, (_, index) => (index % 7) - 3);
    const w = graph.initializer("w", weights, [2, n]);
    const x = graph.input("x", "float32", [1, 2]);
    const outputs = { y: reduceSum(matmul(x, w)) };
    const model = toOnnx(outputs, { externalDataThreshold: 4096 });
    expect(model.externalData).toHaveLength(1);
    expect(model.externalData[0]?.data.byteLength).toBe(weights.byteLength);
    expect(model.bytes.byteLength).toBeLessThan(2000);
    const result = await evaluate(
      outputs,
      { x: { data: Float32Array.of(1, 2), dims: [1, 2] } },
      { externalDataThreshold: 4096 },
    );
    let expected = 0;
    for (let j = 0; j < n; j += 1) expected += (weights[j] ?? 0) + 2 * (weights[n + j] ?? 0);
    expect(values(result.y)).toEqual([expected]);
  });

  it("rejects an empty output record and unknown feeds", async () => {
    expect(() => toOnnx({})).toThrow("toOnnx: outputs: expected at least one output, got none");
    const graph = new Graph();
    const x = graph.input("x", "float32", [1]);
    await expect(evaluate({ y: add(x, 1) }, {})).rejects.toThrow(
      "evaluate: feeds.x: expected a float32 tensor, got nothing",
    );
  });
});

describe("dump", () => {
  it("lists leaves, nodes with types and attributes, and outputs", () => {
    const graph = new Graph();
    const x = graph.input("x", "float32", ["batch", 2]);
    const w = graph.initializer("w", Float32Array.of(1, 2, 3, 4), [2, 2]);
    const text = dump({ y: reduceSum(matmul(x, w), [1]) });
    const lines = text.split("\n");
    expect(lines[0]).toBe("input x: float32[batch,2]");
    expect(lines[1]).toBe("initializer w: float32[2,2]");
    expect(lines[2]).toMatch(/^t\d+: float32\[batch,2\] = MatMul\(x, w\)$/);
    expect(lines[3]).toMatch(/^t\d+: float32\[batch\] = ReduceSum\(t\d+\) \{axes=\[1\], keepdims=false\}$/);
    expect(lines[4]).toMatch(/^output y = t\d+$/);
  });
});

describe("dump of a Scan", () => {
  it("lists the body under its node", () => {
    const graph = new Graph();
    const xs = graph.input("xs", "float32", ["steps", 2]);
    const h = graph.input("h", "float32", [2]);
    const { carry } = scan(([c], [x]) => ({ carry: [add(c as Tensor, x as Tensor)], ys: [] }), [h], [xs]);
    const lines = dump({ total: carry[0] as Tensor }).split("\n");
    // The final carry, the carry entering each step and the body's one value (saved for a gradient).
    expect(lines[2]).toMatch(
      /^t\d+: float32\[2\], t\d+: float32\[steps,2\], t\d+: float32\[steps,2\] = Scan\(h, xs\) \{axis=0, reverse=false\}$/,
    );
    expect(lines[3]).toMatch(/^ {2}body\(scan\d+_carry0: float32\[2\], scan\d+_x0: float32\[2\]\) \{$/);
    expect(lines[4]).toMatch(/^ {4}t\d+: float32\[2\] = Add\(scan\d+_carry0, scan\d+_x0\)$/);
    expect(lines[5]).toMatch(/^ {4}return t\d+$/);
    expect(lines[6]).toBe("  }");
  });
});

describe("Graph", () => {
  it("validates names, shapes and data", () => {
    const graph = new Graph();
    graph.input("x", "float32", [1]);
    expect(() => graph.input("x", "float32", [1])).toThrow(
      'Graph.input: name: expected a name not used before, got "x"',
    );
    expect(() => graph.input("t3", "float32", [1])).toThrow(
      'Graph.input: name: expected an identifier not of the form t<digits>, got "t3"',
    );
    expect(() => graph.input("y", "float32", [-1])).toThrow(
      "Graph.input: shape[0]: expected a non-negative integer or a symbol, got -1",
    );
    expect(() => graph.constant(Float32Array.of(1), [2])).toThrow(
      "Graph.constant: data: expected 2 elements for shape [2], got 1",
    );
    const other = new Graph();
    expect(() => add(graph.input("a", "float32", [1]), other.input("b", "float32", [1]))).toThrow(
      "Add: inputs: expected tensors of one graph (or its enclosing graphs), got tensors of unrelated graphs",
    );
  });
});
