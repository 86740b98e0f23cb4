import { Graph } from "@xlt/graph";
import { describe, expect, it } from "vitest";
import { fanInUniform, normal, ones, uniform, xavierUniform, zeros } from "./init.js";
import { bind, flatten, initialize, leaf, Parameter, subtree } from "./parameters.js";
import { deriveSeed, Random } from "./random.js";

describe("parameter trees", () => {
  const tree = {
    encoder: {
      weight: new Parameter([3, 4], { init: xavierUniform }),
      bias: new Parameter([4], { init: zeros, decay: false }),
    },
    head: { weight: new Parameter([4, 2], { init: normal(0.02), trainable: false, group: "head" }) },
  };

  it("flattens to dotted paths with flags", () => {
    expect(flatten(tree).map(([path, p]) => [path, p.trainable, p.decay, p.group ?? null])).toEqual([
      ["encoder.weight", true, true, null],
      ["encoder.bias", true, false, null],
      ["head.weight", false, true, "head"],
    ]);
    expect(() => flatten({ "bad name": new Parameter([1], { init: ones }) })).toThrow(
      'flatten: name: expected an identifier, got "bad name"',
    );
    expect(() => new Parameter([0], { init: ones })).toThrow(
      "Parameter: shape[0]: expected a positive integer, got 0",
    );
  });

  it("initialises per path: same seed same values, a new parameter moves no other", () => {
    const a = initialize(tree, 1);
    const b = initialize(tree, 1);
    const c = initialize({ ...tree, extra: new Parameter([5], { init: ones }) }, 1);
    expect(Array.from(a.get("encoder.weight") ?? [])).toEqual(Array.from(b.get("encoder.weight") ?? []));
    expect(Array.from(c.get("head.weight") ?? [])).toEqual(Array.from(a.get("head.weight") ?? []));
    expect(Array.from(initialize(tree, 2).get("encoder.weight") ?? [])).not.toEqual(
      Array.from(a.get("encoder.weight") ?? []),
    );
    expect(a.get("encoder.weight")).toBeInstanceOf(Float32Array);
    expect(() => initialize(tree, 0.5)).toThrow("initialize: seed: expected an integer, got 0.5");
  });
});

describe("initialisers", () => {
  const draw = (init: ReturnType<typeof uniform>, shape: number[]) => Array.from(init(shape, new Random(7)));

  it("respect their bounds and moments", () => {
    const xs = draw(uniform(-0.5, 0.25), [20000]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-0.5);
    expect(Math.max(...xs)).toBeLessThan(0.25);
    const ns = draw(normal(2, 1), [20000]);
    const mean = ns.reduce((s, v) => s + v, 0) / ns.length;
    const variance = ns.reduce((s, v) => s + (v - mean) ** 2, 0) / ns.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(variance) - 2)).toBeLessThan(0.05);
    // Glorot: limit √(6/(100+50)) = 0.2
    const glorot = draw(xavierUniform, [100, 50]);
    expect(Math.max(...glorot.map(Math.abs))).toBeLessThanOrEqual(0.2);
    expect(Math.max(...glorot.map(Math.abs))).toBeGreaterThan(0.19);
    expect(Math.max(...draw(fanInUniform(16), [1000]).map(Math.abs))).toBeLessThanOrEqual(0.25);
  });

  it("reject bad arguments", () => {
    expect(() => uniform(1, 1)).toThrow("uniform: high: expected a number > 1, got 1");
    expect(() => normal(-1)).toThrow("normal: std: expected a number >= 0, got -1");
    expect(() => fanInUniform(0)).toThrow("fanInUniform: fanIn: expected a positive integer, got 0");
  });
});

describe("Random", () => {
  it("is reproducible, restorable and shuffles to a permutation", () => {
    const a = new Random(42);
    const first = [a.next(), a.next()];
    const state = a.snapshot;
    const next = a.next();
    expect([new Random(42).next(), new Random(42).next()]).toEqual([first[0], first[0]]);
    expect(Random.fromState(state).next()).toBe(next);
    expect(new Random(1).shuffle([0, 1, 2, 3, 4]).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(deriveSeed(1, "a")).not.toBe(deriveSeed(1, "b"));
  });
});

describe("bound trees", () => {
  it("leaf and subtree say what they found", () => {
    const graph = new Graph();
    const tree = bind({ a: { b: new Parameter([1], { init: ones }) } }, (path, p) =>
      graph.input(path, "float32", p.shape),
    );
    expect(leaf(subtree(tree, "a"), "b").name).toBe("a.b");
    expect(() => leaf(tree, "a")).toThrow("leaf: a: expected a tensor in the parameter tree, got a subtree");
    expect(() => leaf(tree, "z")).toThrow("leaf: z: expected a tensor in the parameter tree, got nothing");
    expect(() => subtree(subtree(tree, "a"), "b")).toThrow(
      "subtree: b: expected a subtree of the parameter tree, got a tensor",
    );
  });
});
