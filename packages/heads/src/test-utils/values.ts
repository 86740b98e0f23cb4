import type { TensorValue } from "@xlt/graph";

/** The numbers of a float tensor value as a plain array. */
export function numbers(value: TensorValue | undefined): number[] {
  if (!value) throw new Error("missing output");
  const { data } = value;
  if (data instanceof Float32Array || data instanceof Float64Array) return Array.from(data);
  throw new Error(`expected a float tensor, got ${data.constructor.name}`);
}

/** Largest absolute difference between two equally long lists. */
export function maxDifference(actual: readonly number[], expected: readonly number[]): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  return expected.reduce(
    (worst, value, index) => Math.max(worst, Math.abs(value - (actual[index] ?? Number.NaN))),
    0,
  );
}

/** A bool mask `[lengths.length, steps]` with the first `length` steps of each row on. */
export function maskData(lengths: readonly number[], steps: number): Uint8Array {
  return Uint8Array.from(lengths.flatMap((n) => Array.from({ length: steps }, (_, t) => (t < n ? 1 : 0))));
}
