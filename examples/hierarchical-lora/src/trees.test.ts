import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LanguageNode, parseLanguageTree } from "@xlt/peft";
import { afterAll, describe, expect, it } from "vitest";
import { LANGUAGES } from "./data.js";
import { levelsOf, loadTrees, pruneTree } from "./trees.js";

const bundled = fileURLToPath(new URL("../trees.json", import.meta.url));
const directory = mkdtempSync(join(tmpdir(), "hql-trees-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A tree as nested arrays of names, leaves as strings: easy to read in an expectation. */
const shape = (node: LanguageNode): unknown =>
  node.children.length === 0 ? node.name : { [node.name]: node.children.map(shape) };

function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

describe("pruneTree", () => {
  it("keeps the languages asked for, drops emptied groups, keeps one-child groups as levels", () => {
    const tree = parseLanguageTree({
      name: "root",
      children: [{ name: "g1", children: ["a", "b"] }, { name: "g2", children: ["c"] }, "d"],
    });
    expect(shape(pruneTree(tree, new Set(["a", "d"])) as LanguageNode)).toEqual({
      root: [{ g1: ["a"] }, "d"],
    });
    expect(pruneTree(tree, new Set(["z"]))).toBeNull();
  });
});

describe("loadTrees", () => {
  it("reads the bundled phylogenetic and distant trees, pruned to the six languages, four levels deep", () => {
    const { trees, levels } = loadTrees(bundled, LANGUAGES);
    expect(levels).toBe(4);
    expect(shape(trees.phylogenetic)).toEqual({
      indo_european: [
        { germanic: [{ north_germanic: ["fo", "is", "da"] }] },
        { slavic: [{ west_slavic: ["hsb", "cs", "sk"] }] },
      ],
    });
    expect(shape(trees.distant)).toEqual({
      all: [
        { mix_a: [{ mix_a1: ["fo"] }, { mix_a2: ["hsb"] }] },
        { mix_b: [{ mix_b1: ["is", "cs"] }, { mix_b2: ["da", "sk"] }] },
      ],
    });
    for (const language of LANGUAGES) expect(levelsOf(trees.distant, language)).toBe(4);
  });

  it("errors: unreadable file, bad JSON, a missing or malformed tree, missing languages, uneven depth", () => {
    const missing = join(directory, "none.json");
    expect(() => loadTrees(missing, ["a"])).toThrowError(
      new RegExp(`^loadTrees: ${missing}: expected a readable JSON file, got ENOENT`),
    );
    const broken = file("broken.json", "{");
    expect(() => loadTrees(broken, ["a"])).toThrowError(
      new RegExp(`^loadTrees: ${broken}: expected a readable JSON file, got .*JSON`),
    );
    const one = file("one.json", JSON.stringify({ phylogenetic: { name: "r", children: ["a"] } }));
    expect(() => loadTrees(one, ["a"])).toThrowError(
      `loadTrees: ${one}: distant: expected a language tree, got nothing`,
    );
    const bad = file("bad.json", JSON.stringify({ phylogenetic: { name: "r", children: [] }, distant: "a" }));
    expect(() => loadTrees(bad, ["a"])).toThrowError(
      `loadTrees: ${bad}: phylogenetic: expected a language tree, got parseLanguageTree: tree.children: expected a non-empty list, got []`,
    );
    const partial = file(
      "partial.json",
      JSON.stringify({
        phylogenetic: { name: "r", children: ["a"] },
        distant: { name: "s", children: ["a", "b"] },
      }),
    );
    expect(() => loadTrees(partial, ["a", "b", "c"])).toThrowError(
      `loadTrees: ${partial}: phylogenetic: expected a tree with the languages a, b, c, got one without b, c`,
    );
    const uneven = file(
      "uneven.json",
      JSON.stringify({
        phylogenetic: {
          name: "r",
          children: [
            { name: "g", children: ["a"] },
            { name: "h", children: ["b"] },
          ],
        },
        distant: { name: "s", children: [{ name: "k", children: ["a"] }, "b"] },
      }),
    );
    expect(() => loadTrees(uneven, ["a", "b"])).toThrowError(
      `loadTrees: ${uneven}: distant: expected every language 3 levels deep, as a in the phylogenetic tree, got b 2 levels deep`,
    );
  });
});
