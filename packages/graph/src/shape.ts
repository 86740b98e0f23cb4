import { GraphError } from "./errors.js";
import type { Dim, Shape } from "./graph.js";

/**
 * Numpy broadcasting of two shapes. A symbolic dim against a fixed one takes the fixed size (the
 * symbol is assumed to match it); two different symbols are an error.
 */
export function broadcastShapes(fn: string, a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i += 1) {
    const x = a[i - rank + a.length] ?? 1;
    const y = b[i - rank + b.length] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else if (typeof x === "string" && typeof y === "number") out.push(y);
    else if (typeof y === "string" && typeof x === "number") out.push(x);
    else throw new GraphError(fn, "shapes", "broadcastable shapes", `[${a.join(",")}] and [${b.join(",")}]`);
  }
  return out;
}

/** Whether two shapes are the same, dim by dim. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, index) => dim === b[index]);
}

/** Normalises a possibly negative axis against a rank. */
export function normaliseAxis(fn: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new GraphError(fn, "axis", `an integer in [${-rank}, ${rank - 1}]`, String(axis));
  }
  return axis < 0 ? axis + rank : axis;
}

/** Formats a shape as `[batch,3]`. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

/** Sum of dims, symbolic when any is; `steps-1` plus 1 is `steps` again. */
export function addDims(dims: readonly Dim[]): Dim {
  let offset = 0;
  const symbols: string[] = [];
  for (const dim of dims) {
    if (typeof dim === "number") {
      offset += dim;
      continue;
    }
    const match = /^(.*)-(\d+)$/.exec(dim);
    if (match?.[1]) {
      symbols.push(match[1]);
      offset -= Number(match[2]);
    } else symbols.push(dim);
  }
  if (symbols.length === 0) return offset;
  const base = symbols.join("+");
  if (offset === 0) return base;
  return offset > 0 ? `${base}+${offset}` : `${base}-${-offset}`;
}
