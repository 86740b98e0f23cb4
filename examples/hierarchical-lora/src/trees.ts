import { readFileSync } from "node:fs";
import { type LanguageNode, languagesUnder, parseLanguageTree, pathTo } from "@xlt/peft";
import { HqlError } from "./errors.js";

/** The two groupings compared: the phylogenetic tree and the "distant languages" control. */
export interface StudyTrees {
  readonly phylogenetic: LanguageNode;
  readonly distant: LanguageNode;
}

/**
 * The tree with only the languages in `keep`: other leaves are dropped, and so are groups left
 * with no language. Groups left with one child stay (a level of the tree is still a level: its
 * adapter trains on the same languages as its child's). `null` when no language is left.
 */
export function pruneTree(node: LanguageNode, keep: ReadonlySet<string>): LanguageNode | null {
  if (node.children.length === 0) return keep.has(node.name) ? node : null;
  const children = node.children
    .map((child) => pruneTree(child, keep))
    .filter((child): child is LanguageNode => child !== null);
  return children.length === 0 ? null : { name: node.name, children };
}

/** Nodes on the path from the root to `language`, both included. */
export const levelsOf = (tree: LanguageNode, language: string): number => pathTo(tree, language).length;

/**
 * Reads the `phylogenetic` and `distant` trees from a JSON file (as `@xlt/peft`'s
 * `parseLanguageTree` reads them), pruned to `languages`. Both must hold every one of the languages,
 * all at the same depth, so that a flat method trained for `levels × epochs` epochs sees each
 * sentence as often as the hierarchical ones. Returns the trees and that number of levels.
 */
export function loadTrees(path: string, languages: readonly string[]): { trees: StudyTrees; levels: number } {
  const fn = "loadTrees";
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new HqlError(
      fn,
      path,
      "a readable JSON file",
      error instanceof Error ? error.message : String(error),
    );
  }
  const keep = new Set(languages);
  const read = (key: keyof StudyTrees): LanguageNode => {
    const value: unknown = typeof json === "object" && json !== null ? Reflect.get(json, key) : undefined;
    if (value === undefined) throw new HqlError(fn, `${path}: ${key}`, "a language tree", "nothing");
    let tree: LanguageNode;
    try {
      tree = parseLanguageTree(value);
    } catch (error) {
      throw new HqlError(
        fn,
        `${path}: ${key}`,
        "a language tree",
        error instanceof Error ? error.message : String(error),
      );
    }
    const pruned = pruneTree(tree, keep);
    const present = pruned ? languagesUnder(pruned) : [];
    const missing = languages.filter((language) => !present.includes(language));
    if (!pruned || missing.length > 0)
      throw new HqlError(
        fn,
        `${path}: ${key}`,
        `a tree with the languages ${languages.join(", ")}`,
        `one without ${missing.join(", ")}`,
      );
    return pruned;
  };
  const trees = { phylogenetic: read("phylogenetic"), distant: read("distant") };
  const depths = (["phylogenetic", "distant"] as const).flatMap((key) =>
    languages.map((language) => ({ key, language, levels: levelsOf(trees[key], language) })),
  );
  const levels = depths[0]?.levels ?? 0;
  const odd = depths.find((depth) => depth.levels !== levels);
  if (odd)
    throw new HqlError(
      fn,
      `${path}: ${odd.key}`,
      `every language ${levels} levels deep, as ${depths[0]?.language} in the phylogenetic tree`,
      `${odd.language} ${odd.levels} levels deep`,
    );
  return { trees, levels };
}
