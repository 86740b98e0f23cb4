import type { onnx } from "onnx-proto";
import type { DType, TensorData } from "./dtype.js";
import { GraphError } from "./errors.js";

/** One dimension: a fixed size, or a symbol such as `"batch"` fixed only when the graph runs. */
export type Dim = number | string;
/** A tensor's shape; `[]` is a scalar. */
export type Shape = readonly Dim[];

/** The static type of a tensor value. */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** What a primitive's `emit` may do: name values and append ONNX nodes. */
export interface EmitContext {
  /** A fresh value name for an intermediate result inside one primitive's emission. */
  fresh(hint: string): string;
  /** Appends one ONNX node. Integer attributes are written as `ints`/`i`, others as `floats`/`f`. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes?: Readonly<Record<string, OnnxAttribute>>,
  ): void;
  /** Name of a constant 1-D int64 tensor holding `values`. */
  int64(values: readonly number[]): string;
  /** Emits `body` as a subgraph attribute with these inputs and outputs. */
  subgraph(inputs: readonly Tensor[], outputs: readonly Tensor[]): OnnxAttribute;
}

/** A typed ONNX attribute. */
export type OnnxAttribute =
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly float: number }
  | { readonly string: string }
  | { readonly graph: onnx.IGraphProto };

/** Arguments a gradient rule receives: upstream gradients, saved inputs and outputs, attributes. */
export interface VjpArguments<A> {
  /** One upstream gradient per output; `null` is a symbolic zero. */
  readonly dy: readonly (Tensor | null)[];
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: A;
  /** Which inputs need a gradient; a rule may skip the others. */
  readonly needs: readonly boolean[];
}

/**
 * A primitive op: its shape/dtype rule, its ONNX emission and its gradient rule, declared together.
 * The gradient rule returns one entry per input (`null` where there is none); broadcasting is undone
 * by the engine, so a rule may return a gradient in the broadcast shape of the output.
 */
export interface Primitive<A> {
  readonly name: string;
  infer(inputs: readonly Tensor[], attrs: A): readonly TensorType[];
  emit(
    context: EmitContext,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: A,
    used: readonly boolean[],
  ): void;
  readonly vjp?: (args: VjpArguments<A>) => readonly (Tensor | null)[];
  /** Subgraphs the op carries (a Scan body), for `dump`. */
  readonly bodies?: (attrs: A) => readonly Body[];
}

/** A subgraph with its inputs and outputs in order. */
export interface Body {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
}

/** An applied primitive. Its closures carry the attributes with their precise type. */
export interface Node {
  readonly op: string;
  readonly order: number;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrsText: string;
  /** The primitive's attributes, for passes that recognise a pattern of nodes. */
  readonly attrs: unknown;
  readonly bodies: readonly Body[];
  emit(
    context: EmitContext,
    inputs: readonly string[],
    outputs: readonly string[],
    used: readonly boolean[],
  ): void;
  readonly vjp:
    | ((dy: readonly (Tensor | null)[], needs: readonly boolean[]) => readonly (Tensor | null)[])
    | undefined;
  /** Applies the same primitive and attributes to other inputs (used to rebuild a Scan body). */
  replay(inputs: readonly Tensor[]): readonly Tensor[];
}

/** Where a tensor's value comes from. */
export type TensorSource =
  | { readonly kind: "input"; readonly name: string }
  | { readonly kind: "initializer"; readonly name: string; readonly data: TensorData }
  | { readonly kind: "constant"; readonly data: TensorData }
  | { readonly kind: "capture"; readonly outer: Tensor }
  | { readonly kind: "node"; readonly node: Node; readonly index: number };

/** A symbolic tensor: a value of a graph, known by dtype and (possibly symbolic) shape. */
export class Tensor implements TensorType {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly source: TensorSource,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** The ONNX value name: the given name for inputs and initializers, `t<id>` otherwise. */
  get name(): string {
    const source = this.source;
    if (source.kind === "input" || source.kind === "initializer") return source.name;
    if (source.kind === "capture") return source.outer.name;
    return `t${this.id}`;
  }
}

interface Counter {
  next: number;
}

const DTYPE_OF_ARRAY = (data: TensorData): DType => {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  return "bool";
};

/** Number of elements of a fully static shape, or `null` if any dim is symbolic. */
export function staticSize(shape: Shape): number | null {
  let size = 1;
  for (const dim of shape) {
    if (typeof dim !== "number") return null;
    size *= dim;
  }
  return size;
}

/**
 * A graph under construction. Tensors are created by `input`, `initializer`, `constant` and the ops;
 * nodes are kept in creation order, which is a topological order.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly initializers: Tensor[] = [];
  readonly parent: Graph | undefined;
  private readonly counter: Counter;
  private readonly captures = new Map<Tensor, Tensor>();
  private readonly names = new Set<string>();

  constructor(parent?: Graph) {
    this.parent = parent;
    this.counter = parent ? parent.counter : { next: 0 };
  }

  /** A graph input fed at run time. Symbolic dims are strings such as `"batch"`. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.claim("Graph.input", name);
    checkShape("Graph.input", shape);
    const tensor = new Tensor(this, this.nextId(), dtype, shape, { kind: "input", name });
    this.inputs.push(tensor);
    return tensor;
  }

  /** A named weight stored in the model; its dtype follows the typed array. */
  initializer(name: string, data: TensorData, shape: readonly number[]): Tensor {
    if (this.parent) throw new GraphError("Graph.initializer", "graph", "the root graph", "a Scan body");
    this.claim("Graph.initializer", name);
    checkData("Graph.initializer", data, shape);
    const tensor = new Tensor(this, this.nextId(), DTYPE_OF_ARRAY(data), shape, {
      kind: "initializer",
      name,
      data,
    });
    this.initializers.push(tensor);
    return tensor;
  }

  /** A constant value baked into the graph. */
  constant(data: TensorData, shape: readonly number[]): Tensor {
    checkData("Graph.constant", data, shape);
    return new Tensor(this, this.nextId(), DTYPE_OF_ARRAY(data), shape, { kind: "constant", data });
  }

  /** Whether `other` is this graph or one of its ancestors. */
  sees(other: Graph): boolean {
    for (let graph: Graph | undefined = this; graph; graph = graph.parent) if (graph === other) return true;
    return false;
  }

  /** The tensor that stands for an outer-scope tensor inside this (body) graph. */
  capture(outer: Tensor): Tensor {
    if (outer.graph === this) return outer;
    const known = this.captures.get(outer);
    if (known) return known;
    const tensor = new Tensor(this, this.nextId(), outer.dtype, outer.shape, { kind: "capture", outer });
    this.captures.set(outer, tensor);
    return tensor;
  }

  /** Outer tensors captured by this (body) graph, with the tensors that stand for them inside. */
  captured(): [outer: Tensor, inner: Tensor][] {
    return [...this.captures.entries()];
  }

  /** @internal Allocates a tensor id shared by this graph and its bodies. */
  nextId(): number {
    const id = this.counter.next;
    this.counter.next += 1;
    return id;
  }

  private claim(fn: string, name: string): void {
    if (!/^[A-Za-z_][A-Za-z0-9_.:/-]*$/.test(name) || /^t\d+$/.test(name)) {
      throw new GraphError(fn, "name", "an identifier not of the form t<digits>", JSON.stringify(name));
    }
    if (this.names.has(name))
      throw new GraphError(fn, "name", "a name not used before", JSON.stringify(name));
    this.names.add(name);
  }
}

function checkShape(fn: string, shape: Shape): void {
  for (const [index, dim] of shape.entries()) {
    const ok = typeof dim === "number" ? Number.isInteger(dim) && dim >= 0 : dim.length > 0;
    if (!ok) throw new GraphError(fn, `shape[${index}]`, "a non-negative integer or a symbol", String(dim));
  }
}

function checkData(fn: string, data: TensorData, shape: readonly number[]): void {
  checkShape(fn, shape);
  const size = staticSize(shape) ?? 0;
  if (data.length !== size)
    throw new GraphError(fn, "data", `${size} elements for shape [${shape.join(",")}]`, `${data.length}`);
}

/** The graph an op over these tensors belongs in: the innermost one; outer tensors are captured. */
function targetGraph(fn: string, inputs: readonly Tensor[]): Graph {
  const first = inputs[0];
  if (!first) throw new GraphError(fn, "inputs", "at least one tensor", "none");
  let graph = first.graph;
  for (const tensor of inputs) {
    if (graph.sees(tensor.graph)) continue;
    if (tensor.graph.sees(graph)) graph = tensor.graph;
    else
      throw new GraphError(
        fn,
        "inputs",
        "tensors of one graph (or its enclosing graphs)",
        "tensors of unrelated graphs",
      );
  }
  return graph;
}

/** Applies a primitive to input tensors and returns its outputs. */
export function apply<A>(primitive: Primitive<A>, rawInputs: readonly Tensor[], attrs: A): readonly Tensor[] {
  const graph = targetGraph(primitive.name, rawInputs);
  const inputs = rawInputs.map((tensor) => graph.capture(tensor));
  const types = primitive.infer(inputs, attrs);
  const outputs: Tensor[] = [];
  const rule = primitive.vjp;
  const node: Node = {
    op: primitive.name,
    order: graph.nextId(),
    inputs,
    outputs,
    attrsText: describeAttrs(attrs),
    attrs,
    bodies: primitive.bodies ? primitive.bodies(attrs) : [],
    emit: (context, inputNames, outputNames, used) =>
      primitive.emit(context, inputNames, outputNames, attrs, used),
    vjp: rule ? (dy, needs) => rule({ dy, inputs, outputs, attrs, needs }) : undefined,
    replay: (others) => apply(primitive, others, attrs),
  };
  for (const [index, type] of types.entries()) {
    outputs.push(new Tensor(graph, graph.nextId(), type.dtype, type.shape, { kind: "node", node, index }));
  }
  graph.nodes.push(node);
  return outputs;
}

/** Applies a single-output primitive. */
export function apply1<A>(primitive: Primitive<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const [output] = apply(primitive, inputs, attrs);
  if (!output) throw new GraphError(primitive.name, "outputs", "one output", "none");
  return output;
}

function describeAttrs(attrs: unknown): string {
  if (attrs === undefined || attrs === null) return "";
  if (typeof attrs !== "object") return String(attrs);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(attrs)) {
    const plain = (item: unknown) =>
      typeof item === "number" || typeof item === "string" || typeof item === "boolean";
    const plainList = Array.isArray(value) && value.length > 0 && value.every(plain);
    if (plain(value) || plainList) parts.push(`${key}=${JSON.stringify(value)}`);
  }
  return parts.join(", ");
}

/** The node that computed `tensor`, or null for inputs, initializers and constants. Internal. */
export function producer(tensor: Tensor): Node | null {
  return tensor.source.kind === "node" ? tensor.source.node : null;
}

/** Nodes that `outputs` depend on within their graph, in topological (creation) order. Internal. */
export function ancestors(outputs: readonly Tensor[]): Node[] {
  const seen = new Set<Node>();
  const stack = outputs.flatMap((tensor) => producer(tensor) ?? []);
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const input of node.inputs) {
      const parent = producer(input);
      if (parent && !seen.has(parent)) stack.push(parent);
    }
  }
  return [...seen].sort((a, b) => a.order - b.order);
}
