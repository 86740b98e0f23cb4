import { readFileSync } from "node:fs";
import { crossEntropy, type Tensor } from "@xlt/graph";
import { flatten, initialize, type TensorTree } from "@xlt/nn";
import { compile } from "@xlt/runtime";
import { describe, expect, it } from "vitest";
import { PeftError } from "./errors.js";
import {
  type HierarchyStep,
  hierarchicalModel,
  languagesUnder,
  parseLanguageTree,
  pathTo,
  trainHierarchicalLora,
} from "./hierarchical.js";
import { LoraLinear } from "./lora-linear.js";
import type { ValueMap } from "./merge.js";
import type { AnyModule } from "./modules.js";
import { namedModules } from "./modules.js";
import { dequantizeNf4 } from "./nf4.js";
import type { Nf4Linear } from "./nf4-linear.js";
import { nf4Layers, quantizeLinears } from "./qlora.js";
import { runModel, TwoLayer } from "./test-utils/models.js";

const trees = JSON.parse(readFileSync(new URL("../fixtures/language-trees.json", import.meta.url), "utf8"));
const small = parseLanguageTree({ name: "root", children: [{ name: "g1", children: ["a", "b"] }, "c"] });
const config = { targetModules: ["first", "second"], r: 2, alpha: 4 };

/** Stands in for training: the node's LoRA matrices set to values derived from its name. */
async function fakeTrain<M extends AnyModule>(step: HierarchyStep<M>): Promise<ValueMap> {
  const out = new Map(step.values);
  for (const [path, parameter] of flatten(step.model.parameters)) {
    if (!parameter.trainable) continue;
    const size = parameter.shape.reduce((p, d) => p * d, 1);
    out.set(
      path,
      Float64Array.from({ length: size }, (_, i) => 0.1 * Math.sin(i + step.node.name.length + path.length)),
    );
  }
  return out;
}

describe("language trees", () => {
  it("parse the phylogenetic and the distant grouping of the same languages from a config file", () => {
    const phylo = parseLanguageTree(trees.phylogenetic);
    const distant = parseLanguageTree(trees.distant);
    expect(languagesUnder(phylo)).toEqual(["fo", "is", "da", "sv", "nb", "en", "hsb", "cs", "sk", "ru"]);
    expect([...languagesUnder(distant)].sort()).toEqual([...languagesUnder(phylo)].sort());
    expect(pathTo(phylo, "hsb").map((node) => node.name)).toEqual([
      "indo_european",
      "slavic",
      "west_slavic",
      "hsb",
    ]);
    expect(pathTo(distant, "hsb").map((node) => node.name)).toEqual(["all", "mix_a", "mix_a2", "hsb"]);
  });

  it("errors: duplicates, empty groups, bad nodes, unknown names", () => {
    expect(() => parseLanguageTree({ name: "r", children: ["a", "a"] })).toThrowError(
      new PeftError("parseLanguageTree", "tree.children[1]", "a name used once in the tree", '"a"'),
    );
    expect(() => parseLanguageTree({ name: "r", children: [] })).toThrowError(
      "parseLanguageTree: tree.children: expected a non-empty list, got []",
    );
    expect(() => parseLanguageTree({ name: "r", children: [3] })).toThrowError(
      'parseLanguageTree: tree.children[0]: expected a language name or { "name", "children" }, got 3',
    );
    expect(() => parseLanguageTree({ children: ["a"] })).toThrowError(
      "parseLanguageTree: tree.name: expected a non-empty string, got undefined",
    );
    expect(() => parseLanguageTree({ name: "a", children: ["a"] })).toThrowError(
      'parseLanguageTree: tree.children[0]: expected a name used once in the tree, got "a"',
    );
    expect(() => parseLanguageTree({ name: "r", children: [""] })).toThrowError(
      'parseLanguageTree: tree.children[0]: expected a non-empty name, got ""',
    );
    expect(() => pathTo(small, "z")).toThrowError(
      'pathTo: name: expected a node of the tree (a, b, c, …), got "z"',
    );
  });
});

describe("trainHierarchicalLora", () => {
  const base = new TwoLayer([5, 4, 3]);
  const baseValues = initialize(base.parameters, 1);

  it("trains every node depth first on its languages, over the base with its ancestors' adapters merged", async () => {
    const seen: { name: string; path: readonly string[]; languages: readonly string[]; weight: number[] }[] =
      [];
    const adapters = await trainHierarchicalLora(base, baseValues, small, config, async (step) => {
      expect(namedModules(step.model).filter(([, m]) => m instanceof LoraLinear)).toHaveLength(2);
      seen.push({
        name: step.node.name,
        path: step.path,
        languages: step.languages,
        weight: [...(step.values.get("first.weight") as Float64Array)],
      });
      return fakeTrain(step);
    });
    expect(seen.map(({ name, path, languages }) => [name, path.join("/"), languages.join(",")])).toEqual([
      ["root", "root", "a,b,c"],
      ["g1", "root/g1", "a,b"],
      ["a", "root/g1/a", "a"],
      ["b", "root/g1/b", "b"],
      ["c", "root/c", "c"],
    ]);
    expect([...adapters.keys()]).toEqual(["root", "g1", "a", "b", "c"]);
    expect([...(adapters.get("g1")?.keys() ?? [])]).toEqual([
      "first.lora_A",
      "first.lora_B",
      "second.lora_A",
      "second.lora_B",
    ]);
    // g1 trained over W + s·A_root·B_root; a and b over W + root + g1; c over W + root.
    const delta = (node: string) => {
      const a = adapters.get(node)?.get("first.lora_A") as Float64Array; // [5, 2]
      const b = adapters.get(node)?.get("first.lora_B") as Float64Array; // [2, 4]
      return Array.from({ length: 20 }, (_, index) => {
        const [i, j] = [Math.floor(index / 4), index % 4];
        return (
          2 * ((a[i * 2] as number) * (b[j] as number) + (a[i * 2 + 1] as number) * (b[4 + j] as number))
        );
      });
    };
    const w = [...(baseValues.get("first.weight") as Float64Array)];
    const sum = (...parts: number[][]) => w.map((v, i) => parts.reduce((s, p) => s + (p[i] as number), v));
    const close = (actual: number[], expected: number[]) =>
      expected.forEach((v, i) => {
        expect(Math.abs((actual[i] as number) - v)).toBeLessThan(1e-14);
      });
    close(seen[0]?.weight ?? [], w);
    close(seen[1]?.weight ?? [], sum(delta("root")));
    close(seen[2]?.weight ?? [], sum(delta("root"), delta("g1")));
    close(seen[4]?.weight ?? [], sum(delta("root")));
    // A language's model replays the merges of its path, its own adapter last.
    const language = hierarchicalModel(base, baseValues, small, config, adapters, "a");
    expect(namedModules(language.model).some(([, m]) => m instanceof LoraLinear)).toBe(false);
    close(
      [...(language.values.get("first.weight") as Float64Array)],
      sum(delta("root"), delta("g1"), delta("a")),
    );
    expect(() => hierarchicalModel(base, baseValues, small, config, new Map(), "a")).toThrowError(
      "hierarchicalModel: adapters.root: expected an adapter, got nothing",
    );
  });

  it("trains for real with compile (2 AdamW steps per node), only LoRA moving", async () => {
    const x = Float64Array.from({ length: 20 }, (_, i) => Math.cos(i));
    const labels: Record<string, bigint[]> = {
      a: [0n, 1n, 2n, 0n],
      b: [2n, 2n, 1n, 0n],
      c: [1n, 0n, 0n, 2n],
    };
    const adapters = await trainHierarchicalLora(base, baseValues, small, config, async (step) => {
      const model = step.model;
      const session = await compile(
        model,
        (params: TensorTree, inputs: Readonly<Record<"x" | "y", Tensor>>, context) => ({
          loss: crossEntropy(model.forward(params, inputs.x, context), inputs.y, -100),
        }),
        {
          inputs: { x: { dtype: "float64", shape: ["batch", 5] }, y: { dtype: "int64", shape: ["batch"] } },
          optimizer: { kind: "adamw" },
          groups: [{ name: "lora", match: /lora_/, lr: 0.05 }],
          values: step.values,
        },
      );
      // The data of every language under the node, one batch each.
      for (const language of step.languages) {
        for (let k = 0; k < 2; k += 1) {
          const y = labels[language] ?? [];
          await session.trainStep({
            x: { data: x.slice(0, 5 * y.length), dims: [y.length, 5] },
            y: { data: BigInt64Array.from(y), dims: [y.length] },
          });
        }
      }
      for (const [path, parameter] of flatten(model.parameters)) {
        const moved = [...(session.parameters.get(path) ?? [])].some(
          (v, i) => v !== step.values.get(path)?.[i],
        );
        expect([path, moved]).toEqual([path, parameter.trainable]);
      }
      const trained = new Map(session.parameters);
      await session.release();
      return trained;
    });
    expect(adapters.size).toBe(5);
    const language = hierarchicalModel(base, baseValues, small, config, adapters, "b");
    const input = { name: "x", dtype: "float64" as const, value: { data: x.slice(0, 10), dims: [2, 5] } };
    expect((await runModel(language.model, language.values, input)).output.dims).toEqual([2, 3]);
  });

  it("over an NF4 base: each level is merged into the 4-bit weights before the next (hierarchical QLoRA)", async () => {
    const model = new TwoLayer([64, 4, 2]);
    const { model: nf4Base, values } = quantizeLinears(model, initialize(model.parameters, 2), {
      quantizeModules: ["first"],
    });
    const weights: number[][] = [];
    const qConfig = { targetModules: ["first"], r: 2, alpha: 2 };
    const tree = parseLanguageTree({ name: "root", children: ["a"] });
    const adapters = await trainHierarchicalLora(nf4Base, values, tree, qConfig, async (step) => {
      weights.push([...dequantizeNf4((nf4Layers(step.model)[0] as Nf4Linear).weight)]);
      return fakeTrain(step);
    });
    expect(weights).toHaveLength(2);
    expect(weights[1]).not.toEqual(weights[0]);
    const final = hierarchicalModel(nf4Base, values, tree, qConfig, adapters, "a");
    expect(nf4Layers(final.model)).toHaveLength(1);
  });
});
