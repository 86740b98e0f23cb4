import { isArray, show, TokenizeError } from "./errors.js";

/** How {@link causalLmExamples} turns documents into rows. */
export type CausalLmMode = "pack" | "pad";

export interface CausalLmOptions {
  /**
   * `"pack"`: concatenate all documents into one stream and cut it into rows of `blockSize` tokens
   * (rows cross document boundaries, as GPT-2 training does; put an `eosId` between documents).
   * `"pad"`: each document starts its own row(s); short rows are padded later by `padBatch`.
   */
  mode: CausalLmMode;
  /** Most tokens per row (at least 2: a row predicts all its tokens but the first). */
  blockSize: number;
  /** Prepended to every document when given. */
  bosId?: number;
  /** Appended to every document when given (so the model learns to end a document). */
  eosId?: number;
  /** Drop a last packed row shorter than `blockSize` (pack mode only). Default false. */
  dropLast?: boolean;
}

/** One causal-LM row in the Hugging Face convention: labels are the ids, unshifted. */
export interface CausalLmExample {
  /** Input ids, shape [steps]. */
  ids: number[];
  /** A copy of `ids`: the loss shifts, so `logits[t]` is scored against `labels[t + 1]`. */
  labels: number[];
}

const FN = "causalLmExamples";

function optionalId(argument: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
    throw new TokenizeError(FN, argument, "a token id (an integer >= 0)", show(value));
}

/** Cuts `stream` into rows of at most `blockSize` tokens, each starting at the previous row's last token. */
function cut(stream: readonly number[], blockSize: number, rows: CausalLmExample[]): void {
  for (let start = 0; start + 1 < stream.length; start += blockSize - 1) {
    const ids = stream.slice(start, start + blockSize);
    rows.push({ ids, labels: [...ids] });
  }
}

/**
 * Causal-LM training rows from tokenized documents (encode raw text with
 * `tokenizer.encodeWords(text.split(/\s+/u), { addSpecialTokens: false }).ids`).
 *
 * Shift convention: Hugging Face's. `labels` are the ids themselves and the loss shifts them, scoring
 * `logits[:, t]` against `labels[:, t + 1]` (`causalLmLoss` of the `@xlt/nn` decoders, HF's
 * `*ForCausalLM`), so a row's first token is context only. Consecutive rows of a stream share one
 * token (each starts with the previous row's last), so every token of a stream except its first is
 * predicted exactly once (HF's `run_clm` cuts disjoint blocks and never predicts a block's first
 * token). Pad the rows with `padBatch(rows, { padId })`: padding gets label -100 and attention mask 0,
 * so the loss and perplexity count real predicted tokens only.
 *
 * In `"pad"` mode a document longer than `blockSize` tokens continues in a new row, whose context
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
  if (!Number.isSafeInteger(options.blockSize) || options.blockSize < 2)
    throw new TokenizeError(FN, "options.blockSize", "an integer >= 2", show(options.blockSize));
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
