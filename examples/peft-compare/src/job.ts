import { join } from "node:path";
import { WordTokenizer } from "@xlt/tokenize";
import { loadCompareData } from "./data.js";
import { CompareError } from "./errors.js";
import { parseOptions } from "./options.js";
import { checkJob } from "./plan.js";
import { encodeData, runJob } from "./run.js";

// One run in a process of its own (see `childProcessRunner`): the payload is the parent's command
// line, its default output directory, the job and the checkpoint; the record is the last stdout line.
const fn = "job";
const text = process.argv[2];
if (text === undefined) throw new CompareError(fn, "argv[2]", "a JSON payload", "nothing");
const payload: unknown = JSON.parse(text);
if (typeof payload !== "object" || payload === null)
  throw new CompareError(fn, "payload", "a JSON object", text.slice(0, 60));
const { argv, defaultOut, job, checkpoint } = payload as Record<string, unknown>;
if (!Array.isArray(argv) || !argv.every((arg) => typeof arg === "string"))
  throw new CompareError(fn, "payload.argv", "a list of strings", JSON.stringify(argv));
if (typeof defaultOut !== "string" || typeof checkpoint !== "string")
  throw new CompareError(fn, "payload", "defaultOut and checkpoint strings", text.slice(0, 60));
const options = parseOptions(argv, defaultOut);
const data = await loadCompareData(options.trainSentences);
const encoded = encodeData(
  WordTokenizer.fromFile(join(checkpoint, "tokenizer.json")),
  data,
  options.maxTokens,
);
const record = await runJob(checkJob(job, "payload.job", fn), {
  checkpoint,
  options,
  data: encoded,
  progress: process.stderr,
});
process.stdout.write(`${JSON.stringify(record)}\n`);
