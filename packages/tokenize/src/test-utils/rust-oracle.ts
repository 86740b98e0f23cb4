import type rust from "tokenizers";

/**
 * The oracle: the Rust tokenizers binding encodes the words joined by single spaces; each token's
 * character offsets say which word it lies in. (The npm binding takes no pre-tokenized input, so word
 * ids come from offsets, the way fast tokenizers derive them.)
 */
export async function rustOracle(tokenizer: rust.Tokenizer, words: readonly string[]) {
  const encoding = await tokenizer.encode(words.join(" "), null, { addSpecialTokens: true });
  // Word of every character (code point) of the joined text; a space belongs to the word after it,
  // as T5's lone "▁" token and GPT-2's "Ġ" do.
  const wordOfChar: number[] = [];
  words.forEach((word, w) => {
    if (w > 0) wordOfChar.push(w);
    for (const _ of word) wordOfChar.push(w);
  });
  const special = encoding.getSpecialTokensMask();
  const wordIds = encoding
    .getOffsets()
    .map(([, end = 0], i) => (special[i] === 1 ? null : (wordOfChar[end - 1] ?? -1)));
  return { ids: encoding.getIds(), tokens: encoding.getTokens(), wordIds, specialTokensMask: special };
}
