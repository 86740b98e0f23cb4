import { describe, expect, it } from "vitest";
import { parseCli } from "./cli.js";
import { conditionName, hashSettings, planRuns, runKey, runSettings, targetBudget } from "./plan.js";

function config(argv: string[]) {
  const result = parseCli(argv);
  if (result.help) throw new Error("expected a configuration");
  return result.config;
}

describe("planRuns", () => {
  it("is recipes × targets × seeds × sweep, baseline first and pseudo last within each seed", () => {
    const c = config(["--targets", "hsb,sv", "--seeds", "1,2,3", "--sweep", "4,1"]);
    const plan = planRuns(c, { hsb: { "cs+sk": 1663 }, sv: { da: 5512 } });
    expect(plan.skipped).toEqual([]);
    // Per target and seed: baseline, transfer k=1, transfer k=4, pseudo.
    expect(plan.runs).toHaveLength(2 * 3 * 4);
    expect(plan.runs.slice(0, 4).map(runKey)).toEqual([
      "hsb-baseline-seed1",
      "hsb-transfer-cs+sk-k1-seed1",
      "hsb-transfer-cs+sk-k4-seed1",
      "hsb-pseudo-seed1",
    ]);
    expect(plan.runs.at(-1)).toEqual({ target: "sv", recipe: "pseudo", source: null, k: null, seed: 3 });
    expect(new Set(plan.runs.map(runKey)).size).toBe(plan.runs.length);
  });

  it("skips source sizes larger than the source corpus, and reports them", () => {
    const c = config(["--targets", "fo", "--sources", "fo=is;da", "--sweep", "1,2", "--recipes", "transfer"]);
    const plan = planRuns(c, { fo: { is: 394, da: 564 } });
    expect(plan.skipped).toEqual([{ target: "fo", source: "is", k: 2, needed: 480, available: 394 }]);
    expect(plan.runs.map(runKey)).toEqual([
      "fo-transfer-is-k1-seed1",
      "fo-transfer-da-k1-seed1",
      "fo-transfer-da-k2-seed1",
      "fo-transfer-is-k1-seed2",
      "fo-transfer-da-k1-seed2",
      "fo-transfer-da-k2-seed2",
    ]);
  });

  it("hashes exactly the settings that change a run, independent of key order", () => {
    const c = config([]);
    const baseline = { target: "hsb", recipe: "baseline", source: null, k: null, seed: 1 } as const;
    const pseudo = { ...baseline, recipe: "pseudo" } as const;
    expect(hashSettings({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      hashSettings({ b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    expect(hashSettings(runSettings(baseline, c))).toMatch(/^[0-9a-f]{12}$/);
    // Pseudo-labelling settings change the pseudo run only.
    const other = config(["--pl-quantile", "0.8"]);
    expect(hashSettings(runSettings(baseline, other))).toBe(hashSettings(runSettings(baseline, c)));
    expect(hashSettings(runSettings(pseudo, other))).not.toBe(hashSettings(runSettings(pseudo, c)));
    expect(hashSettings(runSettings(baseline, config(["--epochs", "3"])))).not.toBe(
      hashSettings(runSettings(baseline, c)),
    );
  });

  it("NER runs record their early-stopping rule (F1, ties broken by token accuracy) in the hash", () => {
    const c = config(["--targets", "hsb,sv"]);
    const sv = { target: "sv", recipe: "baseline", source: null, k: null, seed: 1 } as const;
    expect(runSettings(sv, c).selection).toBe("f1+1e-4*accuracy");
    expect(runSettings({ ...sv, target: "hsb" }, c).selection).toBeUndefined();
    expect(runSettings({ ...sv, recipe: "pseudo" }, c).quantileOver).toBe("not-all-O");
    expect(runSettings({ ...sv, target: "hsb", recipe: "pseudo" }, c).quantileOver).toBeUndefined();
  });

  it("NER targets train with --ner-epochs and --ner-patience; those flags change NER runs only", () => {
    const c = config(["--targets", "hsb,sv"]);
    expect(targetBudget(c, "sv")).toEqual({ epochs: 30, patience: 8 });
    expect(targetBudget(c, "hsb")).toEqual({ epochs: 10, patience: 3 });
    const other = config(["--targets", "hsb,sv", "--ner-epochs", "12", "--ner-patience", "2"]);
    expect(targetBudget(other, "sv")).toEqual({ epochs: 12, patience: 2 });
    const sv = { target: "sv", recipe: "transfer", source: "da", k: 1, seed: 1 } as const;
    const hsb = { ...sv, target: "hsb", source: "cs+sk" } as const;
    expect(hashSettings(runSettings(hsb, other))).toBe(hashSettings(runSettings(hsb, c)));
    expect(hashSettings(runSettings(sv, other))).not.toBe(hashSettings(runSettings(sv, c)));
    // The source phase of an NER transfer run stops with --patience, which its hash covers too.
    expect(runSettings(sv, c)).toMatchObject({ epochs: 30, patience: 8, sourceEpochs: 5, sourcePatience: 3 });
    expect(runSettings(hsb, c)).toMatchObject({ epochs: 10, patience: 3, sourceEpochs: 5 });
    expect(runSettings(hsb, c).sourcePatience).toBeUndefined();
  });

  it("names conditions", () => {
    expect(conditionName({ recipe: "baseline", source: null, k: null }, false)).toBe("baseline");
    expect(conditionName({ recipe: "transfer", source: "cs+sk", k: 4 }, false)).toBe("transfer k=4");
    expect(conditionName({ recipe: "transfer", source: "cs+sk", k: 4 }, true)).toBe("transfer cs+sk k=4");
  });
});
