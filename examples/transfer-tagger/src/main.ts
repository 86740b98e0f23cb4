import { performance } from "node:perf_hooks";
import { HELP, parseCli } from "./cli.js";
import { TransferError } from "./errors.js";
import { runExperiment } from "./experiment.js";
import { BarProgress, LineProgress, type Progress } from "./progress.js";

let parsed: ReturnType<typeof parseCli>;
try {
  parsed = parseCli(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof TransferError)) throw error;
  process.stderr.write(`${error.message}\n(see --help)\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const { config } = parsed;
const progress: Progress = process.stdout.isTTY
  ? new BarProgress(process.stderr)
  : new LineProgress((line) => process.stdout.write(`${line}\n`));
process.on("SIGINT", () => {
  progress.stop();
  process.stderr.write(`\ninterrupted: run the same command again to resume (results in ${config.out})\n`);
  process.exit(130);
});
const began = performance.now();
progress.log(
  `transfer-tagger: ${config.full ? "full" : "short"} configuration: targets ${config.targets.join(", ")}; seeds ${config.seeds.join(", ")}; recipes ${config.recipes.join(", ")}; sweep k = ${config.sweep.join(", ")} × ${config.labelled} sentences; out ${config.out}`,
);
const result = await runExperiment(config, progress);
progress.stop();
const minutes = ((performance.now() - began) / 60000).toFixed(1);
process.stdout.write(
  `\n${result.report.markdown}\n${result.trained} runs trained now, ${result.records.length - result.trained} read back; ${minutes} min.\nWrote ${result.files.runs}, ${result.files.markdown}, ${result.files.latex}, ${result.files.svg}\n`,
);
