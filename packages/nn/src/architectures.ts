import { BERT, DISTILBERT, ROBERTA, XLM_ROBERTA } from "./bert.js";
import { GPT2 } from "./gpt2.js";
import type { HfArchitecture } from "./hf-checkpoint.js";
import { LLAMA } from "./llama.js";

/** The Hugging Face architectures `fromPretrained` knows, by `model_type`. */
export const ARCHITECTURES: readonly HfArchitecture[] = [BERT, ROBERTA, XLM_ROBERTA, DISTILBERT, GPT2, LLAMA];
