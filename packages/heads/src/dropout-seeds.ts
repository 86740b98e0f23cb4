import { HeadsError } from "./errors.js";

/**
 * Dropout sites one model seed spans. Each site of a model draws its masks with its own seed,
 * `seed · DROPOUT_SITES + site`, so two sites never share a seed (same seed, different sites) and
 * two models never do either (different seeds): `site < DROPOUT_SITES` makes the map one-to-one.
 * The sites of a {@link SequenceTagger} are 0 (the word representations, before the BiLSTM),
 * `1 … layers - 1` (between BiLSTM layers, the {@link BiLstm}'s own sites, numbered by the layer
 * they feed) and `layers` (before the head).
 */
export const DROPOUT_SITES = 1024;

/**
 * The largest model seed whose site seeds all stay below 2³¹ - 1, the bound of the keyed dropout
 * hash (`hashUniformLike` of `@xlt/graph`).
 */
export const MAX_DROPOUT_SEED = Math.floor((2 ** 31 - 1) / DROPOUT_SITES) - 1;

/** Throws unless `seed` is a model seed the site scheme can use: an integer in [0, MAX_DROPOUT_SEED]. */
export function checkDropoutSeed(fn: string, argument: string, seed: number): void {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= MAX_DROPOUT_SEED))
    throw new HeadsError(fn, argument, `an integer in [0, ${MAX_DROPOUT_SEED}]`, String(seed));
}

/** The dropout seed of `site` in a model seeded `seed`: `seed · DROPOUT_SITES + site`. */
export function dropoutSeed(seed: number, site: number): number {
  checkDropoutSeed("dropoutSeed", "seed", seed);
  if (!(Number.isInteger(site) && site >= 0 && site < DROPOUT_SITES))
    throw new HeadsError("dropoutSeed", "site", `an integer in [0, ${DROPOUT_SITES})`, String(site));
  return seed * DROPOUT_SITES + site;
}
