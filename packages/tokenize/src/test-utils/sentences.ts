import { readFileSync } from "node:fs";
import { conlluToTagged, loadCorpus, parseConllu } from "@xlt/data";

/** Real sentences in several scripts: bundled UD treebanks plus the Cyrillic and Devanagari fixtures. */
export interface ScriptSample {
  name: string;
  sentences: string[][];
}

function fixture(file: string): string[][] {
  const text = readFileSync(new URL(`../../fixtures/ud/${file}`, import.meta.url), "utf8");
  return parseConllu(text).map((s) => conlluToTagged(s).words);
}

export async function scriptSamples(perTreebank: number): Promise<ScriptSample[]> {
  const ud = async (name: string, split: "train" | "dev" | "test"): Promise<ScriptSample> => ({
    name,
    sentences: (await loadCorpus(name, split)).slice(0, perTreebank).map((s) => s.words),
  });
  return [
    await ud("ud/mt_mudt", "train"),
    await ud("ud/cs_cac", "dev"),
    await ud("ud/fo_farpahc", "train"),
    await ud("ud/is_modern", "dev"),
    await ud("ud/hsb_ufal", "test"),
    { name: "ru_gsd (Cyrillic)", sentences: fixture("ru_gsd-dev-first150.conllu").slice(0, perTreebank) },
    {
      name: "bho_bhtb (Devanagari)",
      sentences: fixture("bho_bhtb-test-first150.conllu").slice(0, perTreebank),
    },
  ];
}

export const TOKENIZERS = ["bert-base-multilingual-cased", "gpt2", "t5-small"] as const;

export function tokenizerPath(name: string): string {
  return new URL(`../../tokenizers/${name}`, import.meta.url).pathname;
}
