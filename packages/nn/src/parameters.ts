import { Tensor } from "@xlt/graph";
import { NnError } from "./errors.js";
import type { Initializer } from "./init.js";
import { deriveSeed, Random } from "./random.js";

/** Element types parameters may have. */
export type ParameterDType = "float32" | "float64";

export interface ParameterOptions {
  readonly init: Initializer;
  /** Trained (a graph input updated each step) or frozen (an initializer). Default true. */
  readonly trainable?: boolean;
  /** Whether weight decay applies; false for biases and norms by convention. Default true. */
  readonly decay?: boolean;
  /** A group label parameter-group patterns may match besides the name. */
  readonly group?: string;
  readonly dtype?: ParameterDType;
}

/** A parameter's declaration: shape, initializer, flags. Its value lives elsewhere. */
export class Parameter {
  readonly shape: readonly number[];
  readonly init: Initializer;
  readonly trainable: boolean;
  readonly decay: boolean;
  readonly group: string | undefined;
  readonly dtype: ParameterDType;

  constructor(shape: readonly number[], options: ParameterOptions) {
    for (const [index, dim] of shape.entries()) {
      if (!Number.isInteger(dim) || dim < 1)
        throw new NnError("Parameter", `shape[${index}]`, "a positive integer", String(dim));
    }
    this.shape = [...shape];
    this.init = options.init;
    this.trainable = options.trainable ?? true;
    this.decay = options.decay ?? true;
    this.group = options.group;
    this.dtype = options.dtype ?? "float32";
  }

  /** The same declaration with some options changed (e.g. frozen). */
  with(options: Partial<ParameterOptions>): Parameter {
    return new Parameter(this.shape, {
      init: options.init ?? this.init,
      trainable: options.trainable ?? this.trainable,
      decay: options.decay ?? this.decay,
      dtype: options.dtype ?? this.dtype,
      ...((options.group ?? this.group) !== undefined ? { group: options.group ?? this.group } : {}),
    });
  }
}

/** A named, nested tree of parameters: `{ encoder: { weight: Parameter, ... } }`. */
export interface ParameterTree {
  readonly [name: string]: Parameter | ParameterTree;
}

/** The same tree with graph tensors at the leaves. */
export interface TensorTree {
  readonly [name: string]: Tensor | TensorTree;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The leaves of a tree with dotted paths (`encoder.weight`), depth first in key order. */
export function flatten(tree: ParameterTree, prefix = ""): [path: string, parameter: Parameter][] {
  const out: [string, Parameter][] = [];
  for (const [name, value] of Object.entries(tree)) {
    if (!NAME.test(name))
      throw new NnError("flatten", "name", "an identifier", JSON.stringify(`${prefix}${name}`));
    const path = `${prefix}${name}`;
    if (value instanceof Parameter) out.push([path, value]);
    else out.push(...flatten(value, `${path}.`));
  }
  return out;
}

/** Builds the tensor tree for `tree` with `leaf(path, parameter)` at each leaf. */
export function bind(
  tree: ParameterTree,
  leaf: (path: string, parameter: Parameter) => Tensor,
  prefix = "",
): TensorTree {
  const out: Record<string, Tensor | TensorTree> = {};
  for (const [name, value] of Object.entries(tree)) {
    const path = `${prefix}${name}`;
    out[name] = value instanceof Parameter ? leaf(path, value) : bind(value, leaf, `${path}.`);
  }
  return out;
}

/** The tensor at `name` of a bound tree; a clear error when it is missing or not a leaf. */
export function leaf(tree: TensorTree, name: string): Tensor {
  const value = tree[name];
  if (value instanceof Tensor) return value;
  throw new NnError(
    "leaf",
    name,
    "a tensor in the parameter tree",
    value === undefined ? "nothing" : "a subtree",
  );
}

/** The subtree at `name` of a bound tree. */
export function subtree(tree: TensorTree, name: string): TensorTree {
  const value = tree[name];
  if (value !== undefined && !(value instanceof Tensor)) return value;
  throw new NnError(
    "subtree",
    name,
    "a subtree of the parameter tree",
    value === undefined ? "nothing" : "a tensor",
  );
}

/** Initial values of every parameter, seeded per path so adding a parameter moves no other. */
export function initialize(tree: ParameterTree, seed: number): Map<string, Float32Array | Float64Array> {
  if (!Number.isInteger(seed)) throw new NnError("initialize", "seed", "an integer", String(seed));
  const values = new Map<string, Float32Array | Float64Array>();
  for (const [path, parameter] of flatten(tree)) {
    const data = parameter.init(parameter.shape, new Random(deriveSeed(seed, path)));
    values.set(path, parameter.dtype === "float32" ? Float32Array.from(data) : data);
  }
  return values;
}
