import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkDropoutSeed, DROPOUT_SITES, dropoutSeed, MAX_DROPOUT_SEED } from "./dropout-seeds.js";
import { HeadsError } from "./errors.js";

describe("dropoutSeed", () => {
  it("is seed · 1024 + site", () => {
    expect(DROPOUT_SITES).toBe(1024);
    expect(dropoutSeed(0, 0)).toBe(0);
    expect(dropoutSeed(0, 1)).toBe(1);
    expect(dropoutSeed(1, 0)).toBe(1024);
    expect(dropoutSeed(3, 5)).toBe(3 * 1024 + 5);
  });

  it("keeps every site seed below 2³¹ - 1, the keyed hash's bound", () => {
    expect(MAX_DROPOUT_SEED).toBe(2097150);
    expect(dropoutSeed(MAX_DROPOUT_SEED, DROPOUT_SITES - 1)).toBe(2147482623);
    expect(dropoutSeed(MAX_DROPOUT_SEED, DROPOUT_SITES - 1)).toBeLessThan(2 ** 31 - 1);
  });

  it("gives distinct (seed, site) pairs distinct seeds", () => {
    const pair = fc.tuple(fc.integer({ min: 0, max: MAX_DROPOUT_SEED }), fc.integer({ min: 0, max: 1023 }));
    fc.assert(
      fc.property(pair, pair, ([s, i], [t, j]) => {
        expect(dropoutSeed(s, i) === dropoutSeed(t, j)).toBe(s === t && i === j);
      }),
    );
    // The old scheme's collision: seed + layer of one tagger met seed of the next.
    expect(dropoutSeed(0, 1)).not.toBe(dropoutSeed(1, 0));
  });

  it("names the argument", () => {
    expect(() => dropoutSeed(-1, 0)).toThrow(
      new HeadsError("dropoutSeed", "seed", "an integer in [0, 2097150]", "-1"),
    );
    expect(() => dropoutSeed(MAX_DROPOUT_SEED + 1, 0)).toThrow(
      "dropoutSeed: seed: expected an integer in [0, 2097150], got 2097151",
    );
    expect(() => dropoutSeed(0, 1024)).toThrow(
      "dropoutSeed: site: expected an integer in [0, 1024), got 1024",
    );
    expect(() => dropoutSeed(0, 0.5)).toThrow("dropoutSeed: site: expected an integer in [0, 1024), got 0.5");
    expect(() => checkDropoutSeed("X", "options.seed", 1.5)).toThrow(
      "X: options.seed: expected an integer in [0, 2097150], got 1.5",
    );
  });
});
