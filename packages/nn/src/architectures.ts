import type { HfArchitecture } from "./hf-checkpoint.js";

/** The Hugging Face architectures `fromPretrained` knows, by `model_type`. */
export const ARCHITECTURES: readonly HfArchitecture[] = [];
