import onnxProto from "onnx-proto";
import { type DType, ONNX_DTYPE, type TensorData } from "./dtype.js";
import { GraphError } from "./errors.js";
import {
  ancestors,
  type EmitContext,
  type Graph,
  type OnnxAttribute,
  type Shape,
  type Tensor,
} from "./graph.js";

const { onnx } = onnxProto;

/** The ai.onnx opset every emitted model imports (ORT 1.30 loads 13 to 26). Recorded here only. */
export const OPSET = 21;
/** The ONNX IR version written into models (ORT 1.30 reads up to 13). */
export const IR_VERSION = 10;

/** A blob of initializer bytes stored outside the protobuf, as ORT's `externalData` session option takes it. */
export interface ExternalData {
  readonly path: string;
  readonly data: Uint8Array;
}

/** A graph input or output as the model declares it. */
export interface ValueSignature {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

/** A serialised model. */
export interface OnnxModel {
  readonly bytes: Uint8Array;
  readonly externalData: readonly ExternalData[];
  readonly inputs: readonly ValueSignature[];
  readonly outputs: readonly ValueSignature[];
}

export interface ToOnnxOptions {
  /** Initializers of at least this many bytes go to external data (default 1 MiB). */
  readonly externalDataThreshold?: number;
  /** File name of the external data blob (default `"weights.bin"`). */
  readonly externalDataPath?: string;
}

const ATTRIBUTE = onnx.AttributeProto.AttributeType;

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A typed value. `symbols` says how symbolic dims are written: as named dims (`dimParam`, for the
 * model's own inputs and outputs) or as unknown dims (inside a Scan body, where ORT infers the
 * sizes from the enclosing graph and a name of ours could only disagree with its own).
 */
function valueInfo(
  name: string,
  dtype: DType,
  shape: Shape | null,
  symbols: "named" | "unknown" = "named",
): onnxProto.onnx.IValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType: ONNX_DTYPE[dtype] };
  if (shape)
    tensorType.shape = {
      dim: shape.map((dim) =>
        typeof dim === "number" ? { dimValue: dim } : symbols === "named" ? { dimParam: dim } : {},
      ),
    };
  return { name, type: { tensorType } };
}

function attribute(name: string, value: OnnxAttribute): onnxProto.onnx.IAttributeProto {
  if ("int" in value) return { name, type: ATTRIBUTE.INT, i: value.int };
  if ("ints" in value) return { name, type: ATTRIBUTE.INTS, ints: [...value.ints] };
  if ("float" in value) return { name, type: ATTRIBUTE.FLOAT, f: value.float };
  if ("string" in value) return { name, type: ATTRIBUTE.STRING, s: new TextEncoder().encode(value.string) };
  return { name, type: ATTRIBUTE.GRAPH, g: value.graph };
}

/** Shared state of one serialisation: fresh-name counter and external data. */
class Session {
  fresh = 0;
  /** Node outputs that are graph outputs carry the output's name, so no Identity copies them. */
  readonly renames = new Map<Tensor, string>();
  readonly blobs: Uint8Array[] = [];
  blobBytes = 0;
  constructor(
    readonly threshold: number,
    readonly path: string,
  ) {}

  tensorProto(
    name: string,
    data: TensorData,
    dims: readonly number[],
    dtype: DType,
  ): onnxProto.onnx.ITensorProto {
    const bytes = bytesOf(data);
    if (bytes.byteLength < this.threshold)
      return { name, dims: [...dims], dataType: ONNX_DTYPE[dtype], rawData: bytes };
    const offset = Math.ceil(this.blobBytes / 64) * 64;
    if (offset > this.blobBytes) this.blobs.push(new Uint8Array(offset - this.blobBytes));
    this.blobs.push(bytes);
    this.blobBytes = offset + bytes.byteLength;
    return {
      name,
      dims: [...dims],
      dataType: ONNX_DTYPE[dtype],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: "location", value: this.path },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(bytes.byteLength) },
      ],
    };
  }
}

/** Emits the part of one graph that `outputs` need. */
class GraphEmitter implements EmitContext {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: Tensor[] = [];
  private readonly done = new Set<Tensor>();
  private readonly int64Names = new Map<string, string>();

  constructor(
    readonly graph: Graph,
    readonly session: Session,
  ) {}

  /** The ONNX name of a tensor: its output name if renamed, its outer tensor's for captures. */
  nameOf(tensor: Tensor): string {
    if (tensor.source.kind === "capture") return this.nameOf(tensor.source.outer);
    return this.session.renames.get(tensor) ?? tensor.name;
  }

  fresh(hint: string): string {
    this.session.fresh += 1;
    return `_${hint}${this.session.fresh}`;
  }

  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, OnnxAttribute>> = {},
  ): void {
    this.nodes.push({
      opType,
      input: [...inputs],
      output: [...outputs],
      name: this.fresh(opType),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
  }

  int64(values: readonly number[]): string {
    const key = values.join(",");
    const known = this.int64Names.get(key);
    if (known) return known;
    const name = this.fresh("c");
    this.constant(
      name,
      BigInt64Array.from(values, (value) => BigInt(value)),
      [values.length],
      "int64",
    );
    this.int64Names.set(key, name);
    return name;
  }

  subgraph(inputs: readonly Tensor[], outputs: readonly Tensor[]): OnnxAttribute {
    const body = inputs[0]?.graph ?? outputs[0]?.graph;
    if (!body) throw new GraphError("toOnnx", "subgraph", "a body graph", "none");
    const emitter = new GraphEmitter(body, this.session);
    return { graph: emitter.build(inputs, outputs, false) };
  }

  private constant(name: string, data: TensorData, dims: readonly number[], dtype: DType): void {
    if (!this.graph.parent) {
      this.initializers.push(this.session.tensorProto(name, data, dims, dtype));
      return;
    }
    const value: onnxProto.onnx.ITensorProto = {
      dims: [...dims],
      dataType: ONNX_DTYPE[dtype],
      rawData: bytesOf(data),
    };
    this.nodes.push({
      opType: "Constant",
      output: [name],
      name: this.fresh("Constant"),
      attribute: [{ name: "value", type: ATTRIBUTE.TENSOR, t: value }],
    });
  }

  private leaf(tensor: Tensor): void {
    if (this.done.has(tensor)) return;
    this.done.add(tensor);
    const source = tensor.source;
    if (source.kind === "input") this.inputs.push(tensor);
    else if (source.kind === "initializer")
      this.initializers.push(
        this.session.tensorProto(source.name, source.data, numericDims(tensor), tensor.dtype),
      );
    else if (source.kind === "constant")
      this.constant(tensor.name, source.data, numericDims(tensor), tensor.dtype);
  }

  /** Emits nodes for `outputs`; `rootInputs` lists graph inputs in order for the root graph. */
  build(
    bodyInputs: readonly Tensor[],
    outputs: readonly Tensor[],
    root: boolean,
    outputNames?: readonly string[],
  ): onnxProto.onnx.IGraphProto {
    const nodes = ancestors(outputs);
    if (outputNames) {
      for (const [index, tensor] of outputs.entries()) {
        const name = outputNames[index];
        if (name !== undefined && tensor.source.kind === "node" && !this.session.renames.has(tensor))
          this.session.renames.set(tensor, name);
      }
    }
    const used = new Set<Tensor>(outputs);
    for (const node of nodes) for (const input of node.inputs) used.add(input);
    for (const tensor of bodyInputs) this.done.add(tensor);
    for (const node of nodes) {
      for (const input of node.inputs) if (input.source.kind !== "node") this.leaf(input);
      node.emit(
        this,
        node.inputs.map((input) => this.nameOf(input)),
        node.outputs.map((output) => this.nameOf(output)),
        node.outputs.map((output) => used.has(output)),
      );
    }
    const outputInfos: onnxProto.onnx.IValueInfoProto[] = [];
    const named = new Set<string>();
    for (const [index, tensor] of outputs.entries()) {
      if (tensor.source.kind !== "node") this.leaf(tensor);
      let name = outputNames?.[index] ?? this.nameOf(tensor);
      const renamed = outputNames !== undefined && this.nameOf(tensor) === name;
      const needsCopy =
        !renamed && (outputNames !== undefined || tensor.source.kind !== "node" || named.has(name));
      if (needsCopy) {
        if (outputNames === undefined) name = this.fresh("out");
        this.node("Identity", [this.nameOf(tensor)], [name]);
      }
      named.add(name);
      // A body declares its outputs' ranks and static dims: ORT's Scan refuses a body output whose
      // shape it cannot infer (a Split or Pad by runtime sizes, say), and ours is always known.
      outputInfos.push(valueInfo(name, tensor.dtype, root ? null : tensor.shape, "unknown"));
    }
    const inputs = root ? this.inputs : bodyInputs;
    return {
      name: root ? "xlt" : this.fresh("body"),
      node: this.nodes,
      initializer: this.initializers,
      input: inputs.map((tensor) =>
        valueInfo(tensor.name, tensor.dtype, tensor.shape, root ? "named" : "unknown"),
      ),
      output: outputInfos,
    };
  }
}

function numericDims(tensor: Tensor): number[] {
  return tensor.shape.map((dim) => (typeof dim === "number" ? dim : 0));
}

/**
 * Serialises the part of a graph that `outputs` need into an ONNX model whose outputs carry the
 * record's keys. Graph inputs are the ones reached, in creation order.
 */
export function toOnnx(outputs: Readonly<Record<string, Tensor>>, options: ToOnnxOptions = {}): OnnxModel {
  const entries = Object.entries(outputs);
  const first = entries[0]?.[1];
  if (!first) throw new GraphError("toOnnx", "outputs", "at least one output", "none");
  if (first.graph.parent)
    throw new GraphError("toOnnx", "outputs", "tensors of a root graph", "tensors of a Scan body");
  const session = new Session(
    options.externalDataThreshold ?? 1 << 20,
    options.externalDataPath ?? "weights.bin",
  );
  const emitter = new GraphEmitter(first.graph, session);
  const names = entries.map(([name]) => name);
  const graph = emitter.build(
    [],
    entries.map(([, tensor]) => tensor),
    true,
    names,
  );
  const inputs = [...emitter.inputs].sort((a, b) => a.id - b.id);
  graph.input = inputs.map((tensor) => valueInfo(tensor.name, tensor.dtype, tensor.shape));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: "@xlt/graph",
    opsetImport: [{ domain: "", version: OPSET }],
    graph,
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  const externalData: ExternalData[] = [];
  if (session.blobBytes > 0) {
    const data = new Uint8Array(session.blobBytes);
    let offset = 0;
    for (const blob of session.blobs) {
      data.set(blob, offset);
      offset += blob.byteLength;
    }
    externalData.push({ path: session.path, data });
  }
  return {
    bytes,
    externalData,
    inputs: inputs.map((tensor) => ({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape })),
    outputs: entries.map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape })),
  };
}
