/** The `added_tokens` entries of a Hugging Face `tokenizer.json` for special tokens with ids 0, 1, ... */
export function addedTokens(specials: readonly string[]): Record<string, unknown>[] {
  return specials.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
}
