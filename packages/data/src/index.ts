export type { ConlluReadOptions, ConlluSentence, ConlluTagColumn, ConlluToken, Upos } from "./conllu.js";
export {
  conlluToTagged,
  formatConllu,
  formatConlluSentence,
  parseConllu,
  readConllu,
  UPOS_TAGS,
  writeConllu,
} from "./conllu.js";
export type { SourceLocation } from "./errors.js";
export { DataError } from "./errors.js";
export type { LanguageInfo, LanguageTreeNode, Script, SourceSuggestion } from "./languages.js";
export { languageInfo, languageTree, listLanguages, suggestedSources, treeDistance } from "./languages.js";
export type { Line, TextSource } from "./lines.js";
export { readLines } from "./lines.js";
export type {
  CorpusFilter,
  CorpusFormat,
  CorpusInfo,
  CorpusTask,
  LoadCorpusOptions,
  ParallelPair,
  Split,
  SplitSize,
} from "./registry.js";
export { corpusFile, corpusInfo, listCorpora, loadCorpus, loadParallel } from "./registry.js";
export type { TaggedSentence } from "./types.js";
export type { UnerReadOptions, UnerSentence } from "./uner.js";
export { formatUner, formatUnerSentence, parseUner, readUner, unerToTagged, writeUner } from "./uner.js";
