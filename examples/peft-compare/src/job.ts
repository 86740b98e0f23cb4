import { join } from "node:path";
import { WordTokenizer } from "@xlt/tokenize";
import { loadCompareData } from "./data.js";
import { parseOptions } from "./options.js";
import { parsePayload } from "./payload.js";
import { encodeData, runJob } from "./run.js";

// One run in a process of its own (see `childProcessRunner`): the record is the last stdout line.
const { argv, defaultOut, job, checkpoint } = parsePayload(process.argv[2]);
const options = parseOptions(argv, defaultOut);
const data = await loadCompareData(options.trainSentences);
const tokenizer = WordTokenizer.fromFile(join(checkpoint, "tokenizer.json"));
const record = await runJob(job, {
  checkpoint,
  options,
  data: encodeData(tokenizer, data, options.maxTokens),
  progress: process.stderr,
});
process.stdout.write(`${JSON.stringify(record)}\n`);
