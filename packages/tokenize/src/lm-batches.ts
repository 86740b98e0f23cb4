import { isArray, show, TokenizeError } from "./errors.js";

/** How {@link causalLmExamples} turns documents into rows. */
export type CausalLmMode = "pack" | "pad";

export interface CausalLmOptions {
  /**
   * `"pack"`: concatenate all documents into one stream and cut it into rows of `blockSize` inputs
   * (rows cross document boundaries, as GPT-2 training does; put an `eosId` between documents).
   * `"pad"`: each document starts its own row(s); short rows are padded later by `padBatch`.
   */
  mode: CausalLmMode;
  /** Most input tokens per row. */
  blockSize: number;
  /** Prepended to every document when given. */
  bosId?: number;
  /** Appended to every document when given (so the model learns to end a document). */
  eosId?: number;
  /** Drop a last packed row shorter than `blockSize` (pack mode only). Default false. */
  dropLast?: boolean;
}

/** One causal-LM row: inputs and their next-token labels, the same length. */
export interface CausalLmExample {
  /** Input ids, shape [steps]. */
  ids: number[];
  /** `labels[t]` is the id that position `t` must predict, i.e. the input's next token. */
  labels: number[];
}

const FN = "causalLmExamples";

function optionalId(argument: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
    throw new TokenizeError(FN, argument, "a token id (an integer >= 0)", show(value));
}

/** Cuts `stream` into rows of at most `blockSize` inputs with shifted labels; every token but the first is a label once. */
function cut(stream: readonly number[], blockSize: number, rows: CausalLmExample[]): void {
  for (let start = 0; start + 1 < stream.length; start += blockSize) {
    const end = Math.min(start + blockSize, stream.length - 1);
    rows.push({ ids: stream.slice(start, end), labels: stream.slice(start + 1, end + 1) });
  }
}

/**
 * Causal-LM training rows from tokenized documents (encode raw text with
 * `tokenizer.encodeWords(text.split(/\s+/u), { addSpecialTokens: false }).ids`).
 *
 * Shift convention: labels are already shifted. `labels[t] = ids[t + 1]` of the underlying stream, so
 * the loss is `crossEntropy(logits, labels, -100)` over `logits: [batch, steps, vocabulary]` as they
 * come out of the model, with no slicing (Hugging Face instead passes `labels = input_ids` and shifts
 * inside the model). Each row of `blockSize` inputs reads `blockSize + 1` tokens of the stream; the
 * next row starts at the last of them, so every token except a stream's first is predicted exactly
 * once. Pad the rows with `padBatch(rows, { padId })`: padding gets label -100 and attention mask 0,
 * so perplexity counts real predicted tokens only.
 *
 * In `"pad"` mode a document longer than `blockSize + 1` tokens continues in a new row, whose context
 * starts afresh; a document of fewer than two tokens (after `bosId`/`eosId`) predicts nothing and
 * gives no row.
 */
export function causalLmExamples(
  documents: readonly (readonly number[])[],
  options: CausalLmOptions,
): CausalLmExample[] {
  if (!isArray(documents)) throw new TokenizeError(FN, "documents", "an array of id arrays", show(documents));
  if (options.mode !== "pack" && options.mode !== "pad")
    throw new TokenizeError(FN, "options.mode", '"pack" or "pad"', show(options.mode));
  if (!Number.isSafeInteger(options.blockSize) || options.blockSize < 1)
    throw new TokenizeError(FN, "options.blockSize", "an integer >= 1", show(options.blockSize));
  optionalId("options.bosId", options.bosId);
  optionalId("options.eosId", options.eosId);
  const wrapped = documents.map((document, d) => {
    if (!isArray(document))
      throw new TokenizeError(FN, `documents[${d}]`, "an array of token ids", show(document));
    document.forEach((id, t) => {
      if (!Number.isSafeInteger(id) || id < 0)
        throw new TokenizeError(FN, `documents[${d}][${t}]`, "a token id (an integer >= 0)", show(id));
    });
    return [
      ...(options.bosId === undefined ? [] : [options.bosId]),
      ...document,
      ...(options.eosId === undefined ? [] : [options.eosId]),
    ];
  });
  const rows: CausalLmExample[] = [];
  if (options.mode === "pad") {
    for (const stream of wrapped) cut(stream, options.blockSize, rows);
    return rows;
  }
  cut(wrapped.flat(), options.blockSize, rows);
  const last = rows.at(-1);
  if ((options.dropLast ?? false) && last !== undefined && last.ids.length < options.blockSize) rows.pop();
  return rows;
}
