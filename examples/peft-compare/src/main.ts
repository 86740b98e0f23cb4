import { fileURLToPath } from "node:url";
import { loadCompareData } from "./data.js";
import { CompareError } from "./errors.js";
import { parseOptions, USAGE, wantsHelp } from "./options.js";
import { childProcessRunner, runStudy } from "./study.js";

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  console.log(USAGE);
  process.exit(0);
}
try {
  const defaultOut = fileURLToPath(new URL("../results", import.meta.url));
  const options = parseOptions(argv, defaultOut);
  const began = performance.now();
  const data = await loadCompareData(options.trainSentences);
  const log = (line: string) => console.log(`peft-compare: ${line}`);
  log(
    `${options.full ? "full" : "short"} configuration: ${options.seeds} seeds × ${options.methods.length} methods (${options.methods.join(", ")}) × 2 tasks, ${options.lmEpochs} LM and ${options.tagEpochs} UPOS epochs; output ${options.out}`,
  );
  const result = await runStudy(options, data, log, childProcessRunner(argv, defaultOut));
  if (result.report) console.log(`\n${result.report.markdown}`);
  log(
    `done in ${((performance.now() - began) / 1000).toFixed(0)} s (${result.ran} runs made now, the rest read back); tables in ${options.out}`,
  );
} catch (error) {
  if (error instanceof CompareError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  throw error;
}
