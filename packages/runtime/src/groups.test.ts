import { Parameter, zeros } from "@xlt/nn";
import { describe, expect, it } from "vitest";
import { assignGroups, layerwiseGroups } from "./groups.js";

const p = (options: { trainable?: boolean } = {}) => new Parameter([1], { init: zeros, ...options });
const parameters: [string, Parameter][] = [
  ["embeddings.weight", p()],
  ["layer0.weight", p()],
  ["layer1.weight", p()],
  ["classifier.weight", p()],
  ["frozen.weight", p({ trainable: false })],
];

describe("parameter groups", () => {
  it("layer-wise decay: lr · factor^(depth from the top)", () => {
    const groups = layerwiseGroups(
      [
        { name: "embeddings", match: /^embeddings\./ },
        { name: "layer0", match: /^layer0\./ },
        { name: "layer1", match: /^layer1\./ },
        { name: "classifier", match: /^classifier\./ },
      ],
      { lr: 1e-3, factor: 0.5, weightDecay: 0.01 },
    );
    expect(groups.map((g) => g.lr)).toEqual([1.25e-4, 2.5e-4, 5e-4, 1e-3]);
    const assigned = assignGroups(parameters, groups);
    expect([...assigned.entries()].map(([path, group]) => [path, group.name])).toEqual([
      ["embeddings.weight", "embeddings"],
      ["layer0.weight", "layer0"],
      ["layer1.weight", "layer1"],
      ["classifier.weight", "classifier"],
    ]);
    expect(assignGroups(parameters, [{ name: "all", match: (path) => path !== "nothing", lr: 1 }]).size).toBe(
      4,
    );
  });

  it("every trainable parameter in exactly one group; groups validated", () => {
    expect(() =>
      assignGroups(parameters, [
        { name: "a", match: /weight/, lr: 1 },
        { name: "b", match: /^layer/, lr: 1 },
      ]),
    ).toThrow(
      "assignGroups: layer0.weight: expected a trainable parameter in exactly one group, got groups a, b",
    );
    expect(() => assignGroups(parameters, [{ name: "a", match: /^layer/, lr: 1 }])).toThrow(
      "assignGroups: embeddings.weight: expected a trainable parameter in exactly one group, got no group",
    );
    expect(() => assignGroups(parameters, [])).toThrow(
      "assignGroups: groups: expected at least one group, got none",
    );
    expect(() => assignGroups(parameters, [{ name: "a b", match: /./, lr: 1 }])).toThrow(
      'assignGroups: group name: expected an identifier, got "a b"',
    );
    expect(() =>
      assignGroups(parameters, [
        { name: "a", match: /x/, lr: 1 },
        { name: "a", match: /./, lr: 1 },
      ]),
    ).toThrow('assignGroups: group name: expected a unique name, got "a"');
    expect(() => assignGroups(parameters, [{ name: "a", match: /./, lr: -1 }])).toThrow(
      "assignGroups: a.lr: expected a finite number >= 0, got -1",
    );
    expect(() => assignGroups(parameters, [{ name: "a", match: /./, lr: 1, weightDecay: -1 }])).toThrow(
      "assignGroups: a.weightDecay: expected a finite number >= 0, got -1",
    );
    expect(() => layerwiseGroups([], { lr: 1, factor: 0 })).toThrow(
      "layerwiseGroups: factor: expected a number in (0, 1], got 0",
    );
  });
});
