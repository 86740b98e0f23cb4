import { StatsError } from "./errors.js";

/** Which side the alternative hypothesis is on, as in scipy.stats. */
export type Alternative = "two-sided" | "less" | "greater";

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** Copies `x` into a Float64Array after checking it holds at least `minLength` finite numbers. */
export function checkSample(fn: string, argument: string, x: unknown, minLength = 1): Float64Array {
  if (!isArrayLike(x)) throw new StatsError(fn, argument, "an array of numbers", typeof x);
  const values = x;
  if (values.length < minLength) {
    throw new StatsError(
      fn,
      argument,
      `at least ${minLength} value${minLength === 1 ? "" : "s"}`,
      `${values.length}`,
    );
  }
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new StatsError(fn, `${argument}[${i}]`, "a finite number", String(value));
    }
    out[i] = value;
  }
  return out;
}

/** Checks that a paired sample has the same length as its partner. */
export function checkPaired(fn: string, a: Float64Array, b: Float64Array): void {
  if (a.length !== b.length)
    throw new StatsError(fn, "b", `${a.length} values like a (paired)`, `${b.length}`);
}

export function checkAlternative(fn: string, value: unknown): Alternative {
  if (value === undefined) return "two-sided";
  if (value !== "two-sided" && value !== "less" && value !== "greater") {
    throw new StatsError(
      fn,
      "options.alternative",
      '"two-sided", "less" or "greater"',
      JSON.stringify(value),
    );
  }
  return value;
}

/** Checks a literal option against its allowed values. */
export function checkChoice<T extends string>(
  fn: string,
  argument: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  const found = choices.find((choice) => choice === value);
  if (found === undefined) {
    throw new StatsError(
      fn,
      argument,
      choices.map((choice) => JSON.stringify(choice)).join(" | "),
      JSON.stringify(value),
    );
  }
  return found;
}

export function checkInteger(
  fn: string,
  argument: string,
  value: unknown,
  min: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new StatsError(fn, argument, `an integer >= ${min}`, String(value));
  }
  return value;
}

export function checkProbability(fn: string, argument: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0 && value < 1)) {
    throw new StatsError(fn, argument, "a number strictly between 0 and 1", String(value));
  }
  return value;
}

export function checkBoolean(fn: string, argument: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new StatsError(fn, argument, "true or false", String(value));
  return value;
}

/** numpy's pairwise summation (`np.sum` on float64), so sums agree with numpy to the last bit. */
export function pairwiseSum(x: ArrayLike<number>, start = 0, n = x.length - start): number {
  if (n < 8) {
    let total = 0;
    for (let i = 0; i < n; i++) total += x[start + i]!;
    return total;
  }
  if (n <= 128) {
    let r0 = x[start]!;
    let r1 = x[start + 1]!;
    let r2 = x[start + 2]!;
    let r3 = x[start + 3]!;
    let r4 = x[start + 4]!;
    let r5 = x[start + 5]!;
    let r6 = x[start + 6]!;
    let r7 = x[start + 7]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const k = start + i;
      r0 += x[k]!;
      r1 += x[k + 1]!;
      r2 += x[k + 2]!;
      r3 += x[k + 3]!;
      r4 += x[k + 4]!;
      r5 += x[k + 5]!;
      r6 += x[k + 6]!;
      r7 += x[k + 7]!;
    }
    let total = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) total += x[start + i]!;
    return total;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(x, start, half) + pairwiseSum(x, start + half, n - half);
}

/** Mean with numpy's summation. */
export function mean(x: ArrayLike<number>): number {
  return pairwiseSum(x) / x.length;
}

/** Variance with `ddof` degrees of freedom removed (numpy `var(x, ddof)`: mean of squared deviations). */
export function variance(x: ArrayLike<number>, ddof = 1): number {
  const m = mean(x);
  const squares = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - m;
    squares[i] = d * d;
  }
  return pairwiseSum(squares) / (x.length - ddof);
}
