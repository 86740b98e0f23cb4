import type { Parameter } from "@xlt/nn";
import { RuntimeError } from "./errors.js";

/** Which parameters a group takes: a regular expression on the dotted path, or a predicate. */
export type GroupMatch = RegExp | ((path: string, parameter: Parameter) => boolean);

/** A parameter group with its own learning rate and weight decay. */
export interface ParameterGroup {
  readonly name: string;
  readonly match: GroupMatch;
  readonly lr: number;
  /** Weight decay for the group's parameters whose `decay` flag is set (default 0). */
  readonly weightDecay?: number;
}

const GROUP_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function matches(match: GroupMatch, path: string, parameter: Parameter): boolean {
  return match instanceof RegExp
    ? new RegExp(match.source, match.flags.replace("g", "")).test(path)
    : match(path, parameter);
}

/**
 * The group of every trainable parameter. A parameter in no group, or in more than one, is an
 * error: leaving a layer out of the optimizer must never happen silently.
 */
export function assignGroups(
  parameters: readonly (readonly [string, Parameter])[],
  groups: readonly ParameterGroup[],
): Map<string, ParameterGroup> {
  const fn = "assignGroups";
  if (groups.length === 0) throw new RuntimeError(fn, "groups", "at least one group", "none");
  const names = new Set<string>();
  for (const group of groups) {
    if (!GROUP_NAME.test(group.name))
      throw new RuntimeError(fn, "group name", "an identifier", JSON.stringify(group.name));
    if (names.has(group.name))
      throw new RuntimeError(fn, "group name", "a unique name", JSON.stringify(group.name));
    names.add(group.name);
    if (!(Number.isFinite(group.lr) && group.lr >= 0))
      throw new RuntimeError(fn, `${group.name}.lr`, "a finite number >= 0", String(group.lr));
    const decay = group.weightDecay ?? 0;
    if (!(Number.isFinite(decay) && decay >= 0))
      throw new RuntimeError(fn, `${group.name}.weightDecay`, "a finite number >= 0", String(decay));
  }
  const assigned = new Map<string, ParameterGroup>();
  for (const [path, parameter] of parameters) {
    if (!parameter.trainable) continue;
    const hits = groups.filter((group) => matches(group.match, path, parameter));
    if (hits.length !== 1) {
      throw new RuntimeError(
        fn,
        path,
        "a trainable parameter in exactly one group",
        hits.length === 0 ? "no group" : `groups ${hits.map((g) => g.name).join(", ")}`,
      );
    }
    assigned.set(path, hits[0] as ParameterGroup);
  }
  return assigned;
}

/**
 * Layer-wise ("discriminative") learning rates: `layers` from the bottom (embeddings) to the top
 * (classifier); layer `i` of `n` gets `lr · factor^(n - 1 - i)`.
 */
export function layerwiseGroups(
  layers: readonly { readonly name: string; readonly match: GroupMatch }[],
  options: { readonly lr: number; readonly factor: number; readonly weightDecay?: number },
): ParameterGroup[] {
  if (!(options.factor > 0 && options.factor <= 1))
    throw new RuntimeError("layerwiseGroups", "factor", "a number in (0, 1]", String(options.factor));
  return layers.map((layer, index) => ({
    name: layer.name,
    match: layer.match,
    lr: options.lr * options.factor ** (layers.length - 1 - index),
    ...(options.weightDecay !== undefined ? { weightDecay: options.weightDecay } : {}),
  }));
}
