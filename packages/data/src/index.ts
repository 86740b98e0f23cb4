export type { ColumnBlock, ColumnReadOptions, ColumnSeparator, ColumnTagOptions } from "./columns.js";
export {
  columnsToTagged,
  formatColumnBlock,
  formatColumns,
  parseColumns,
  readColumns,
  readTokenTags,
  taggedToColumns,
  writeColumns,
} from "./columns.js";
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
export type { PseudoLabelCandidate, PseudoLabelOptions, PseudoLabelRound } from "./pseudo-labels.js";
export { PseudoLabelSelector, quantile } from "./pseudo-labels.js";
export { seededPermutation, seededRandom, shuffled } from "./random.js";
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
export { corpusFile, corpusInfo, listCorpora, loadCorpus, loadParallel, pairLines } from "./registry.js";
export type { Span, TagScheme } from "./schemes.js";
export { convertTags, detectScheme, isValidTags, spansToTags, TAG_SCHEMES, tagsToSpans } from "./schemes.js";
export type { KShotOptions, KShotSample, ResplitOptions } from "./splits.js";
export { firstN, kShot, resplit, sampleN, splitSizes } from "./splits.js";
export type { TaggedSentence } from "./types.js";
export type { UnerReadOptions, UnerSentence } from "./uner.js";
export { formatUner, formatUnerSentence, parseUner, readUner, unerToTagged, writeUner } from "./uner.js";
export type { LabelVocabularyJson } from "./vocabulary.js";
export { LabelVocabulary } from "./vocabulary.js";
export type { WikiannReadOptions, WikiannSentence } from "./wikiann.js";
export { formatWikiann, formatWikiannSentence, parseWikiann, readWikiann, writeWikiann } from "./wikiann.js";
