import { type Module, Parameter, type ParameterTree } from "@xlt/nn";
import { PeftError } from "./errors.js";

/** Any `@xlt/nn` module, whatever its input and output types. */
export type AnyModule = Module<never, unknown>;

/**
 * A module made of submodules, by the `@xlt/nn` convention: `modules` holds the submodules under the
 * same keys as their parameter subtrees, and `forward` looks them up there, so a transformation can
 * swap one (a `Linear` for a `LoraLinear`) by copying the composite with a new `modules` record.
 */
export interface Composite extends AnyModule {
  readonly modules: Readonly<Record<string, AnyModule>>;
}

/** Whether `module` keeps its submodules in a `modules` record. */
export function isComposite(module: AnyModule): module is Composite {
  const modules: unknown = Reflect.get(module, "modules");
  return typeof modules === "object" && modules !== null;
}

/** Every module of the tree with its dotted path (`""` for the root), parents before children. */
export function namedModules(module: AnyModule, prefix = ""): [path: string, module: AnyModule][] {
  const out: [string, AnyModule][] = [[prefix, module]];
  if (isComposite(module)) {
    for (const [key, child] of Object.entries(module.modules))
      out.push(...namedModules(child, prefix === "" ? key : `${prefix}.${key}`));
  }
  return out;
}

/** Whether `key` is an accessor (a getter such as a derived `parameters`) somewhere on the prototype chain. */
function isAccessor(object: object, key: string): boolean {
  for (let at: object | null = Object.getPrototypeOf(object); at; at = Object.getPrototypeOf(at)) {
    const descriptor = Object.getOwnPropertyDescriptor(at, key);
    if (descriptor) return descriptor.get !== undefined || descriptor.set !== undefined;
  }
  return false;
}

/**
 * A copy of `module` (same prototype, same own fields) with some fields replaced. Modules are plain
 * objects of readonly fields, so a shallow copy is a module of the same class. A field the class
 * derives with a getter (`get parameters()` from `modules`) is not assigned: the copy derives it
 * from its new fields.
 */
export function copyModule<M extends AnyModule>(module: M, fields: Readonly<Record<string, unknown>>): M {
  const copy: M = Object.create(Object.getPrototypeOf(module));
  Object.assign(copy, module);
  for (const [key, value] of Object.entries(fields))
    if (!isAccessor(copy, key)) Reflect.set(copy, key, value);
  return copy;
}

/**
 * Rebuilds the module tree below `module` bottom-up: `replace(child, path)` may return a substitute
 * for a submodule (whose own children are not visited then); composites whose children changed are
 * copied with the new `modules` and the new children's parameter trees at the same keys. The root
 * itself is never replaced, so the result has the root's type.
 */
export function mapModules<M extends AnyModule>(
  module: M,
  replace: (module: AnyModule, path: string) => AnyModule | undefined,
  prefix = "",
): M {
  if (!isComposite(module)) return module;
  const modules: Record<string, AnyModule> = {};
  const parameters: Record<string, Parameter | ParameterTree> = { ...module.parameters };
  let changed = false;
  for (const [key, child] of Object.entries(module.modules)) {
    const path = `${prefix}${key}`;
    const next = replace(child, path) ?? mapModules(child, replace, `${path}.`);
    modules[key] = next;
    if (next !== child) {
      changed = true;
      parameters[key] = next.parameters;
    }
  }
  return changed ? copyModule(module, { modules, parameters }) : module;
}

/** The parameter tree with `change(path, parameter)` applied to every leaf. */
export function mapParameters(
  tree: ParameterTree,
  change: (path: string, parameter: Parameter) => Parameter,
  prefix = "",
): ParameterTree {
  const out: Record<string, Parameter | ParameterTree> = {};
  for (const [name, value] of Object.entries(tree)) {
    const path = `${prefix}${name}`;
    out[name] = value instanceof Parameter ? change(path, value) : mapParameters(value, change, `${path}.`);
  }
  return out;
}

/**
 * The same module tree with every parameter's `trainable` flag set by `trainable(path, parameter)`
 * (paths are dotted from the root). Every module is copied with its re-flagged parameter tree, so
 * each level's `parameters` agrees with the root's.
 */
export function setTrainable<M extends AnyModule>(
  module: M,
  trainable: (path: string, parameter: Parameter) => boolean,
  prefix = "",
): M {
  const flag = (path: string, parameter: Parameter) => {
    const wanted = trainable(path, parameter);
    return wanted === parameter.trainable ? parameter : parameter.with({ trainable: wanted });
  };
  if (!isComposite(module)) {
    const parameters = mapParameters(module.parameters, flag, prefix);
    const copy = copyModule(module, { parameters });
    if (copy.parameters !== parameters)
      throw new PeftError(
        "setTrainable",
        `module ${JSON.stringify(prefix.slice(0, -1))}`,
        "a module whose parameters are a field (or derived from its `modules`)",
        `${module.constructor.name} with a derived parameter tree`,
      );
    return copy;
  }
  const modules: Record<string, AnyModule> = {};
  for (const [key, child] of Object.entries(module.modules))
    modules[key] = setTrainable(child, trainable, `${prefix}${key}.`);
  const own = mapParameters(module.parameters, flag, prefix);
  const parameters: Record<string, Parameter | ParameterTree> = { ...own };
  for (const [key, child] of Object.entries(modules)) parameters[key] = child.parameters;
  // A composite's own parameter kept in a field under its key (`MaskedLmHead.bias`) and read by a
  // derived `parameters`: the copy gets the re-flagged one in that field too.
  const fields: Record<string, unknown> = { modules, parameters };
  for (const [key, value] of Object.entries(module))
    if (value instanceof Parameter && own[key] instanceof Parameter) fields[key] = own[key];
  return copyModule(module, fields);
}
