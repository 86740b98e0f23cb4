import { fileURLToPath } from "node:url";
import { StudyError } from "@xlt/example-layerwise-lr";
import { LANGUAGES, loadHqlData } from "./data.js";
import { HqlError } from "./errors.js";
import { METHODS } from "./methods.js";
import { parseOptions, USAGE, wantsHelp } from "./options.js";
import { runStudy } from "./study.js";
import { loadTrees } from "./trees.js";

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  console.log(USAGE);
  process.exit(0);
}
try {
  const options = parseOptions(
    argv,
    fileURLToPath(new URL("../results", import.meta.url)),
    fileURLToPath(new URL("../trees.json", import.meta.url)),
  );
  const began = performance.now();
  const { trees, levels } = loadTrees(options.trees, LANGUAGES);
  const data = await loadHqlData(options);
  const log = (line: string) => console.log(`hierarchical-lora: ${line}`);
  log(
    `${options.full ? "full" : "short"} configuration: ${options.seeds} seeds × ${METHODS.length} methods (${METHODS.join(", ")}), LoRA rank ${options.rank}, lr ${options.lr}; output ${options.out}`,
  );
  const result = await runStudy(options, data, trees, levels, log);
  if (result.report) console.log(`\n${result.report.markdown}`);
  log(
    `done in ${((performance.now() - began) / 1000).toFixed(0)} s (${result.ran} runs trained now, the rest read back); tables in ${options.out}`,
  );
} catch (error) {
  if (error instanceof HqlError || error instanceof StudyError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  throw error;
}
