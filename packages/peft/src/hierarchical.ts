import { deriveSeed, flatten, initialize, Parameter, type ParameterTree } from "@xlt/nn";
import { PeftError } from "./errors.js";
import { applyLora, type LoraConfig } from "./lora.js";
import { mergeAndUnload, type ValueMap } from "./merge.js";
import type { AnyModule } from "./modules.js";
import type { ModuleNaming } from "./patterns.js";

/** A node of a language tree: a group of languages (with children), or a language (a leaf). */
export interface LanguageNode {
  readonly name: string;
  readonly children: readonly LanguageNode[];
}

/**
 * Reads a language tree from its JSON form: `{ "name": "germanic", "children": [ … ] }`, where a
 * child may be a plain string (a language). Names must be unique across the tree, and every group
 * must have at least one child.
 */
export function parseLanguageTree(json: unknown): LanguageNode {
  const fn = "parseLanguageTree";
  const seen = new Set<string>();
  const visit = (value: unknown, at: string): LanguageNode => {
    if (typeof value === "string") {
      if (value === "") throw new PeftError(fn, at, "a non-empty name", '""');
      if (seen.has(value)) throw new PeftError(fn, at, "a name used once in the tree", JSON.stringify(value));
      seen.add(value);
      return { name: value, children: [] };
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new PeftError(fn, at, 'a language name or { "name", "children" }', JSON.stringify(value));
    const name: unknown = Reflect.get(value, "name");
    const children: unknown = Reflect.get(value, "children");
    if (typeof name !== "string" || name === "")
      throw new PeftError(fn, `${at}.name`, "a non-empty string", JSON.stringify(name));
    if (seen.has(name))
      throw new PeftError(fn, `${at}.name`, "a name used once in the tree", JSON.stringify(name));
    seen.add(name);
    if (!Array.isArray(children) || children.length === 0)
      throw new PeftError(fn, `${at}.children`, "a non-empty list", JSON.stringify(children));
    return { name, children: children.map((child, index) => visit(child, `${at}.children[${index}]`)) };
  };
  return visit(json, "tree");
}

/** The languages (leaves) under a node, in tree order. */
export function languagesUnder(node: LanguageNode): string[] {
  return node.children.length === 0 ? [node.name] : node.children.flatMap(languagesUnder);
}

/** The nodes from the root down to `name` (inclusive), or an error if the tree has no such node. */
export function pathTo(tree: LanguageNode, name: string): LanguageNode[] {
  const search = (node: LanguageNode): LanguageNode[] | undefined => {
    if (node.name === name) return [node];
    for (const child of node.children) {
      const below = search(child);
      if (below) return [node, ...below];
    }
    return undefined;
  };
  const found = search(tree);
  if (!found)
    throw new PeftError(
      "pathTo",
      "name",
      `a node of the tree (${languagesUnder(tree).join(", ")}, …)`,
      JSON.stringify(name),
    );
  return found;
}

/** What the training callback gets for one node. */
export interface HierarchyStep<M extends AnyModule> {
  readonly node: LanguageNode;
  /** Node names from the root to this node. */
  readonly path: readonly string[];
  /** Languages whose data trains this node's adapter. */
  readonly languages: readonly string[];
  /** The base with every ancestor's adapter merged, under a fresh LoRA (only the LoRA set trains). */
  readonly model: M;
  /** Its values: merged base weights and freshly initialised LoRA matrices. */
  readonly values: ValueMap;
}

/** Trains one node's adapter and returns the values after training (a session's `parameters`). */
export type HierarchyTrainer<M extends AnyModule> = (step: HierarchyStep<M>) => Promise<ValueMap>;

/** The adapter trained at each node, by node name: the values of its LoRA model that trained. */
export type HierarchyAdapters = ReadonlyMap<string, ReadonlyMap<string, Float32Array | Float64Array>>;

export interface HierarchicalLoraOptions extends ModuleNaming {
  /** Seed of the fresh LoRA matrices; each node derives its own from its name (default 0). */
  readonly seed?: number;
}

/** The trained set of a node's LoRA model, taken from the values its training returned. */
function adapterValues(
  model: AnyModule,
  values: ValueMap,
  fn: string,
): Map<string, Float32Array | Float64Array> {
  const out = new Map<string, Float32Array | Float64Array>();
  for (const [path, parameter] of flatten(model.parameters)) {
    if (!parameter.trainable) continue;
    const size = parameter.shape.reduce((product, dim) => product * dim, 1);
    const data = values.get(path);
    if (!data || data.length !== size)
      throw new PeftError(
        fn,
        `trained values.${path}`,
        `${size} values`,
        data ? String(data.length) : "nothing",
      );
    out.set(path, data);
  }
  return out;
}

/** One node's LoRA model over `base` and its starting values (fresh LoRA over the merged base). */
function freshLora<M extends AnyModule>(
  base: M,
  values: ValueMap,
  node: LanguageNode,
  config: LoraConfig,
  options: HierarchicalLoraOptions,
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  const model = applyLora(base, config, options);
  const start = new Map(values);
  // Only the parameters without a value (the new LoRA matrices) are initialised, at their paths.
  const fresh = initialize(
    pickParameters(model.parameters, (path) => !values.has(path)),
    deriveSeed(options.seed ?? 0, node.name) % 2147483647,
  );
  for (const [path, data] of fresh) start.set(path, data);
  return { model, values: start };
}

/** The subtree of `tree` with the leaves `keep(path)` accepts (empty subtrees dropped). */
function pickParameters(tree: ParameterTree, keep: (path: string) => boolean, prefix = ""): ParameterTree {
  const out: Record<string, Parameter | ParameterTree> = {};
  for (const [name, value] of Object.entries(tree)) {
    const path = `${prefix}${name}`;
    if (value instanceof Parameter) {
      if (keep(path)) out[name] = value;
    } else {
      const below = pickParameters(value, keep, `${path}.`);
      if (Object.keys(below).length > 0) out[name] = below;
    }
  }
  return out;
}

/**
 * Hierarchical LoRA down a language tree (as hierarchical QLoRA): at every node, depth first, the
 * ancestors' adapters are already merged into the base (`mergeAndUnload`, which re-quantises NF4
 * bases); a fresh LoRA is trained on the data of all languages under the node by `train`; its
 * trained set is the node's adapter, merged in turn before the node's children train.
 */
export async function trainHierarchicalLora<M extends AnyModule>(
  base: M,
  baseValues: ValueMap,
  tree: LanguageNode,
  config: LoraConfig,
  train: HierarchyTrainer<M>,
  options: HierarchicalLoraOptions = {},
): Promise<HierarchyAdapters> {
  const fn = "trainHierarchicalLora";
  const adapters = new Map<string, Map<string, Float32Array | Float64Array>>();
  const visit = async (node: LanguageNode, path: readonly string[], model: M, values: ValueMap) => {
    const here = [...path, node.name];
    const step = freshLora(model, values, node, config, options);
    const trained = await train({ node, path: here, languages: languagesUnder(node), ...step });
    const adapter = adapterValues(step.model, trained, fn);
    adapters.set(node.name, adapter);
    if (node.children.length === 0) return;
    const merged = mergeAndUnload(step.model, new Map([...step.values, ...adapter]));
    for (const child of node.children) await visit(child, here, merged.model, merged.values);
  };
  await visit(tree, [], base, baseValues);
  return adapters;
}

/**
 * A node's (e.g. a language's) model: the base with the adapters of its path merged in order, root
 * first, exactly as training merged them. Returns the base model type and its values.
 */
export function hierarchicalModel<M extends AnyModule>(
  base: M,
  baseValues: ValueMap,
  tree: LanguageNode,
  config: LoraConfig,
  adapters: HierarchyAdapters,
  name: string,
  options: HierarchicalLoraOptions = {},
): { model: M; values: Map<string, Float32Array | Float64Array> } {
  let current = { model: base, values: new Map(baseValues) };
  for (const node of pathTo(tree, name)) {
    const adapter = adapters.get(node.name);
    if (!adapter) throw new PeftError("hierarchicalModel", `adapters.${node.name}`, "an adapter", "nothing");
    const model = applyLora(current.model, config, options);
    current = mergeAndUnload(model, new Map([...current.values, ...adapter]));
  }
  return current;
}
