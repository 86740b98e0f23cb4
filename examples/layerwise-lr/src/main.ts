import { fileURLToPath } from "node:url";
import { loadStudyData } from "./data.js";
import { StudyError } from "./errors.js";
import { parseOptions, USAGE, wantsHelp } from "./options.js";
import { runStudy } from "./study.js";

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  console.log(USAGE);
  process.exit(0);
}
try {
  const options = parseOptions(argv, fileURLToPath(new URL("../results", import.meta.url)));
  const began = performance.now();
  const data = await loadStudyData();
  const log = (line: string) => console.log(`layerwise-lr: ${line}`);
  log(
    `${options.full ? "full" : "short"} configuration: ${options.seeds} seeds × 4 conditions, ${options.epochs} epochs, lr ${options.lr}, factor ${options.factor}, ${options.blocks} blocks, ${options.head} head; output ${options.out}`,
  );
  const result = await runStudy(options, data, log);
  if (result.report) console.log(`\n${result.report.markdown}\n`);
  log(
    `done in ${((performance.now() - began) / 1000).toFixed(0)} s (${result.ran} runs fine-tuned now, the rest read back); tables in ${options.out}`,
  );
} catch (error) {
  if (error instanceof StudyError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  throw error;
}
