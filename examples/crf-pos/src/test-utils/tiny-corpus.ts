import type { Sentence } from "../model.js";

/** A handful of tagged sentences for tests and the README: the tagger must learn them perfectly. */
export const TINY_CORPUS: readonly Sentence[] = [
  { words: ["il-", "qattus", "jiekol"], tags: ["DET", "NOUN", "VERB"] },
  { words: ["il-", "kelb", "jorqod"], tags: ["DET", "NOUN", "VERB"] },
  { words: ["jiekol", "il-", "ħut"], tags: ["VERB", "DET", "NOUN"] },
  { words: ["kelb", "jiġri"], tags: ["NOUN", "VERB"] },
];
