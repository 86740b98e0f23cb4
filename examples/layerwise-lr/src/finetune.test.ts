import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { accuracy, familyOf } from "./finetune.js";
import { report } from "./report.js";

const sentence = { ids: [2, 10, 3], wordIds: [null, 0, null], labels: [-100, 1, -100], gold: [1] };

describe("fine-tuning helpers", () => {
  it("accuracy scores batches of evalStep logits and needs float32 logits", async () => {
    const right = {
      evalStep: async () => ({
        logits: { data: Float32Array.of(0, 0, 0, 0, 9, 0, 0, 0, 0), dims: [1, 3, 3] },
      }),
    };
    expect(await accuracy(right, [sentence], 0)).toBe(1);
    await expect(accuracy({ evalStep: async () => ({}) }, [sentence], 0)).rejects.toThrow(
      "accuracy: session: expected float32 logits from evalStep, got none",
    );
    const float64 = { evalStep: async () => ({ logits: { data: new Float64Array(9), dims: [1, 3, 3] } }) };
    await expect(accuracy(float64, [sentence], 0)).rejects.toThrow(
      "accuracy: session: expected float32 logits from evalStep, got Float64Array",
    );
  });

  it("familyOf reads config.json's model_type and refuses a decoder", () => {
    const directory = mkdtempSync(join(tmpdir(), "layerwise-family-"));
    try {
      writeFileSync(join(directory, "config.json"), JSON.stringify({ model_type: "xlm-roberta" }));
      expect(familyOf(directory)).toBe("xlm-roberta");
      writeFileSync(join(directory, "config.json"), JSON.stringify({ model_type: "gpt2" }));
      expect(() => familyOf(directory)).toThrow(
        `familyOf: ${join(directory, "config.json")}: expected model_type bert, roberta, xlm-roberta, distilbert, got "gpt2"`,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("report needs zero-shot records", () => {
    const source = {
      condition: "baseline" as const,
      seed: 1,
      language: "da",
      role: "source" as const,
      score: 0.9,
      steps: 1,
      seconds: 1,
    };
    expect(() => report([source])).toThrow("report: records: expected zero-shot (target) records, got none");
  });
});
