import { HfEncoderModel, initialize } from "@xlt/nn";
import { parseLanguageTree } from "@xlt/peft";
import { describe, expect, it } from "vitest";
import { type MethodContext, runMethod } from "./methods.js";
import { SHORT } from "./options.js";

const base = new HfEncoderModel(
  {
    family: "bert",
    head: "token-classification",
    labels: 3,
    vocabSize: 20,
    hidden: 8,
    layers: 1,
    heads: 2,
    intermediate: 16,
    maxPositions: 8,
  },
  ["A", "B", "C"],
);
const context: MethodContext = {
  options: { ...SHORT, threads: 1 },
  languages: [
    { language: "fo", train: [], test: [] },
    { language: "is", train: [], test: [] },
  ],
  trees: {
    phylogenetic: parseLanguageTree({ name: "r", children: ["fo", "is"] }),
    distant: parseLanguageTree({ name: "s", children: ["fo", "da"] }),
  },
  levels: 2,
  base,
  baseValues: initialize(base.parameters, 0),
  padId: 0,
  seed: 1,
};

describe("runMethod", () => {
  it("refuses trees over other languages than the data's, before training anything", async () => {
    await expect(runMethod("per-language", context)).rejects.toThrowError(
      "runMethod: context.trees.distant: expected a tree over the languages fo, is, got one over fo, da",
    );
    const short = { ...context, trees: { ...context.trees, phylogenetic: parseLanguageTree("fo") } };
    await expect(runMethod("hql-phylogenetic", short)).rejects.toThrowError(
      "runMethod: context.trees.phylogenetic: expected a tree over the languages fo, is, got one over fo",
    );
  });
});
