import { describe, expect, it } from "vitest";
import { languageInfo, languageTree, listLanguages, suggestedSources, treeDistance } from "./languages.js";
import { listCorpora } from "./registry.js";

describe("language metadata", () => {
  it("looks languages up by ISO 639-1 or 639-3", () => {
    expect(languageInfo("fo")).toEqual(languageInfo("fao"));
    expect(languageInfo("hsb").name).toBe("Upper Sorbian");
    expect(languageInfo("mt").genus).toBe("Semitic");
    expect(() => languageInfo("xx")).toThrow(
      'languageInfo: code: expected an ISO 639-1 or 639-3 code of a known language (fo, is, nb, da, sv, en, cs, sk, hsb, mt), got "xx"',
    );
  });

  it("covers every bundled corpus language and uses distinct codes", () => {
    const codes = new Set(listLanguages().map((l) => l.iso639_3));
    for (const corpus of listCorpora()) expect(codes.has(corpus.language.iso639_3)).toBe(true);
    expect(codes.size).toBe(listLanguages().length);
    for (const language of listLanguages()) {
      expect(language.lineage[0]).toBe(language.family);
      expect(language.glottocode).toMatch(/^[a-z]{4}\d{4}$/);
    }
  });

  it("builds a family tree with every language once", () => {
    const tree = languageTree();
    expect(tree.map((n) => n.name)).toEqual(["Indo-European", "Afro-Asiatic"]);
    const leaves: string[] = [];
    const walk = (node: { language?: string; children: typeof tree }): void => {
      if (node.language !== undefined) leaves.push(node.language);
      for (const child of node.children) walk(child);
    };
    for (const root of tree) walk(root);
    expect(leaves.sort()).toEqual(["cs", "da", "en", "fo", "hsb", "is", "mt", "nb", "sk", "sv"]);
  });

  it("measures distance along the tree", () => {
    expect(treeDistance("fo", "fo")).toBe(0);
    expect(treeDistance("fo", "is")).toBe(2);
    expect(treeDistance("fo", "da")).toBe(4);
    expect(treeDistance("hsb", "cs")).toBe(4);
    expect(treeDistance("cs", "sk")).toBe(2);
    expect(treeDistance("mt", "fo")).toBe(Number.POSITIVE_INFINITY);
  });

  it("suggests sources whose corpora exist", () => {
    const names = new Set(listCorpora().map((c) => c.name));
    for (const target of ["fo", "hsb", "mt"]) {
      for (const suggestion of suggestedSources(target)) {
        for (const corpus of suggestion.corpora) expect(names.has(corpus)).toBe(true);
      }
    }
    expect(suggestedSources("fao").map((s) => s.language)).toEqual(["is", "da", "sv", "nb"]);
    expect(suggestedSources("hsb").map((s) => s.language)).toEqual(["cs", "sk"]);
    expect(() => suggestedSources("da")).toThrow(
      'suggestedSources: target: expected a target language with suggestions (fo, hsb, mt), got "da"',
    );
  });
});
