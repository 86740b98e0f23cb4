/** One sentence with one tag per word: the common currency between readers, splits and `@xlt/tokenize`. */
export interface TaggedSentence {
  /** The words (UD: FORM of syntactic words; NER files: the token column). */
  words: string[];
  /** One tag per word: UPOS for UD, IOB tags for NER. */
  tags: string[];
  /** `# sent_id` where the file has one. */
  id?: string;
  /** `# text` where the file has one. */
  text?: string;
}
