import { accuracy, type EncodedSentence } from "@xlt/example-layerwise-lr";
import type { HfEncoderModel } from "@xlt/nn";
import { initialize } from "@xlt/nn";
import {
  applyLora,
  type LanguageNode,
  languagesUnder,
  trainHierarchicalLora,
  type ValueMap,
} from "@xlt/peft";
import type { TrainingSession } from "@xlt/runtime";
import { HqlError } from "./errors.js";
import type { HqlOptions } from "./options.js";
import { compileTagger, loraConfig, trainEpochs } from "./train.js";
import type { StudyTrees } from "./trees.js";

/** The four methods, the baseline (per-language LoRAs) first. */
export const METHODS = ["per-language", "multilingual", "hql-phylogenetic", "hql-distant"] as const;
export type Method = (typeof METHODS)[number];
export const BASELINE: Method = "per-language";

/** One language's encoded tagging data. */
export interface EncodedLanguage {
  readonly language: string;
  readonly train: readonly EncodedSentence[];
  readonly test: readonly EncodedSentence[];
}

/** What every method needs: the data, the trees, the shared base of the run's seed. */
export interface MethodContext {
  readonly options: Pick<HqlOptions, "epochs" | "batchSize" | "lr" | "rank" | "threads">;
  readonly languages: readonly EncodedLanguage[];
  readonly trees: StudyTrees;
  /** Nodes on every language's path in both trees: the flat methods train `levels × epochs` epochs. */
  readonly levels: number;
  readonly base: HfEncoderModel;
  readonly baseValues: ValueMap;
  readonly padId: number;
  readonly seed: number;
}

/** A method's score in one language, with the optimizer steps its adapters took on the way. */
export interface LanguageScore {
  readonly language: string;
  /** Word accuracy on the language's test set. */
  readonly score: number;
  /** Optimizer steps of the adapters the language's model is made of (a tree path sums its nodes). */
  readonly steps: number;
}

/** The base under a fresh LoRA (seeded) with its starting values. */
function withLora(context: MethodContext): {
  model: HfEncoderModel;
  values: Map<string, Float32Array | Float64Array>;
} {
  const model = applyLora(context.base, loraConfig(context.options, context.seed));
  const values = initialize(model.parameters, context.seed);
  for (const [path, data] of context.baseValues) values.set(path, data);
  return { model, values };
}

const pooled = (context: MethodContext, languages: readonly string[]): EncodedSentence[] =>
  context.languages.filter((entry) => languages.includes(entry.language)).flatMap((entry) => entry.train);

/** Word accuracy of a session on a language's test set (`runMethod` checked the language is there). */
const scoreOf = (context: MethodContext, session: TrainingSession, language: string): Promise<number> =>
  accuracy(
    session,
    context.languages.find((entry) => entry.language === language)?.test ?? [],
    context.padId,
  );

/**
 * Per-language LoRAs: for each language a fresh LoRA (and classifier) over the base, trained on
 * its sentences alone. One compiled session serves all languages: it is restored to the same
 * starting values and step 0 before each.
 */
async function perLanguage(context: MethodContext): Promise<LanguageScore[]> {
  const { model, values } = withLora(context);
  const session = await compileTagger(model, values, context.options, context.seed);
  const start = session.snapshot();
  const scores: LanguageScore[] = [];
  for (const entry of context.languages) {
    session.restore(new Map(start.tensors), 0, start.shapes);
    const epochs = context.levels * context.options.epochs;
    const steps = await trainEpochs(
      session,
      entry.train,
      epochs,
      context.options,
      context.seed,
      context.padId,
    );
    scores.push({ language: entry.language, score: await scoreOf(context, session, entry.language), steps });
  }
  await session.release();
  return scores;
}

/** One multilingual LoRA (and classifier) over the base, trained on every language's sentences pooled. */
async function multilingual(context: MethodContext): Promise<LanguageScore[]> {
  const { model, values } = withLora(context);
  const session = await compileTagger(model, values, context.options, context.seed);
  const all = context.languages.map((entry) => entry.language);
  const epochs = context.levels * context.options.epochs;
  const steps = await trainEpochs(
    session,
    pooled(context, all),
    epochs,
    context.options,
    context.seed,
    context.padId,
  );
  const scores: LanguageScore[] = [];
  for (const language of all)
    scores.push({ language, score: await scoreOf(context, session, language), steps });
  await session.release();
  return scores;
}

/**
 * Hierarchical LoRA down `tree` (`trainHierarchicalLora` of `@xlt/peft`): every node trains a fresh
 * LoRA and the classifier for `epochs` epochs on the pooled sentences of its languages, over the
 * base with its ancestors' adapters merged; a language is scored by its leaf's session (the base,
 * its path's merged adapters, and its own adapter).
 */
async function hierarchical(context: MethodContext, tree: LanguageNode): Promise<LanguageScore[]> {
  const scores: LanguageScore[] = [];
  const stepsAt = new Map<string, number>();
  await trainHierarchicalLora(
    context.base,
    context.baseValues,
    tree,
    loraConfig(context.options, context.seed),
    async (step) => {
      const session = await compileTagger(step.model, step.values, context.options, context.seed);
      const steps = await trainEpochs(
        session,
        pooled(context, step.languages),
        context.options.epochs,
        context.options,
        context.seed,
        context.padId,
      );
      const parent = step.path.length > 1 ? (stepsAt.get(step.path[step.path.length - 2] as string) ?? 0) : 0;
      stepsAt.set(step.node.name, parent + steps);
      if (step.node.children.length === 0)
        scores.push({
          language: step.node.name,
          score: await scoreOf(context, session, step.node.name),
          steps: parent + steps,
        });
      const trained = new Map(session.parameters);
      await session.release();
      return trained;
    },
    { seed: context.seed },
  );
  const order = context.languages.map((entry) => entry.language);
  return scores.sort((a, b) => order.indexOf(a.language) - order.indexOf(b.language));
}

/**
 * Trains `method` for the context's seed and scores it on every language's test set. The trees'
 * languages must be exactly the context's.
 */
export async function runMethod(method: Method, context: MethodContext): Promise<LanguageScore[]> {
  const have = context.languages.map((entry) => entry.language);
  for (const key of ["phylogenetic", "distant"] as const) {
    const leaves = languagesUnder(context.trees[key]);
    if (leaves.length !== have.length || leaves.some((language) => !have.includes(language)))
      throw new HqlError(
        "runMethod",
        `context.trees.${key}`,
        `a tree over the languages ${have.join(", ")}`,
        `one over ${leaves.join(", ")}`,
      );
  }
  switch (method) {
    case "per-language":
      return perLanguage(context);
    case "multilingual":
      return multilingual(context);
    case "hql-phylogenetic":
      return hierarchical(context, context.trees.phylogenetic);
    case "hql-distant":
      return hierarchical(context, context.trees.distant);
  }
}
