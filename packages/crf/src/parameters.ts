import { CrfError } from "./errors.js";
import type { TransitionConstraints } from "./schemes.js";
import { isTensorLike, type TensorLike } from "./tensor.js";

/** A parameter given as a flat row-major array, nested arrays, or a `{ data, dims }` tensor. */
export type ParameterInput = TensorLike | ArrayLike<number> | ArrayLike<ArrayLike<number>>;

export interface Allowed {
  transitions: Uint8Array;
  start: Uint8Array;
  end: Uint8Array;
}

/** Reads a `[K, K]` (matrix) or `[K]` parameter into float64, checking shape and finiteness. */
export function readParameter(
  fn: string,
  argument: string,
  value: ParameterInput | undefined,
  K: number,
  matrix: boolean,
): Float64Array {
  const size = matrix ? K * K : K;
  const shape = matrix ? `[${K}, ${K}]` : `[${K}]`;
  const out = new Float64Array(size);
  if (value === undefined) return out;
  let flat: ArrayLike<unknown>;
  if (isTensorLike(value)) {
    const dims = value.dims;
    const ok =
      Array.isArray(dims) &&
      (matrix ? dims.length === 2 && dims[0] === K && dims[1] === K : dims.length === 1 && dims[0] === K);
    if (!ok)
      throw new CrfError(
        fn,
        `${argument}.dims`,
        shape,
        Array.isArray(dims) ? `[${dims.join(", ")}]` : String(dims),
      );
    flat = value.data;
  } else if (matrix && value.length === K && K > 0 && typeof value[0] === "object" && value[0] !== null) {
    const rows = value as ArrayLike<ArrayLike<number>>;
    const values: number[] = [];
    for (let i = 0; i < K; i++) {
      const row = rows[i];
      if (row === undefined || row.length !== K) {
        throw new CrfError(
          fn,
          `${argument}[${i}]`,
          `a row of ${K} scores`,
          row === undefined ? "undefined" : `${row.length} values`,
        );
      }
      for (let j = 0; j < K; j++) values.push(row[j] as number);
    }
    flat = values;
  } else {
    flat = value;
  }
  if (flat.length !== size) {
    throw new CrfError(
      fn,
      argument,
      `${size} values (shape ${shape}${matrix ? ", row-major [from, to]" : ""})`,
      `${flat.length}`,
    );
  }
  for (let index = 0; index < size; index++) {
    const x = flat[index];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new CrfError(fn, `${argument}[${index}]`, "a finite number", String(x));
    }
    out[index] = x;
  }
  return out;
}

export function readAllowed(fn: string, allowed: TransitionConstraints, K: number): Allowed {
  const flag = (argument: string, values: unknown, size: number): Uint8Array => {
    if (!Array.isArray(values) || values.length !== size) {
      throw new CrfError(
        fn,
        argument,
        `${size} booleans`,
        Array.isArray(values) ? `${values.length}` : String(values),
      );
    }
    return Uint8Array.from(values, (value) => (value ? 1 : 0));
  };
  if (typeof allowed !== "object" || allowed === null) {
    throw new CrfError(
      fn,
      "options.allowed",
      "{ transitions, start, end } (see allowedTransitions)",
      String(allowed),
    );
  }
  if (!Array.isArray(allowed.transitions) || allowed.transitions.length !== K) {
    throw new CrfError(
      fn,
      "options.allowed.transitions",
      `${K} rows of ${K} booleans`,
      String(allowed.transitions?.length),
    );
  }
  const transitions = new Uint8Array(K * K);
  allowed.transitions.forEach((row, i) => {
    transitions.set(flag(`options.allowed.transitions[${i}]`, row, K), i * K);
  });
  return {
    transitions,
    start: flag("options.allowed.start", allowed.start, K),
    end: flag("options.allowed.end", allowed.end, K),
  };
}
