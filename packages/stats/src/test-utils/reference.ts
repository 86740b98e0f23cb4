import { readFileSync } from "node:fs";

/** A number as the fixture writes it: non-finite values are the strings "NaN", "Infinity", "-Infinity". */
export type FixtureNumber = number | "NaN" | "Infinity" | "-Infinity";

export function toNumber(value: FixtureNumber): number {
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  return value;
}

/** |actual − expected| / max(|expected|, tiny); equal infinities and NaN/NaN count as exact. */
export function relativeError(actual: number, expected: FixtureNumber): number {
  const target = toNumber(expected);
  if (Number.isNaN(target)) return Number.isNaN(actual) ? 0 : Number.POSITIVE_INFINITY;
  if (!Number.isFinite(target)) return actual === target ? 0 : Number.POSITIVE_INFINITY;
  if (target === 0) return Math.abs(actual);
  return Math.abs(actual - target) / Math.abs(target);
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), "utf8"));
}
