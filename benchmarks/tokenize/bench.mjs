// Words per second of @xlt/tokenize (encodeWords + alignLabels) against the Rust tokenizers binding,
// on real UD treebanks, in the same process. Prints a table of medians and writes RESULTS.md.
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { loadCorpus } from "@xlt/data";
import { alignLabels, WordTokenizer } from "@xlt/tokenize";
import rust from "tokenizers";

const REPEATS = Number(process.env.REPEATS ?? 5);
const TOKENIZERS = ["bert-base-multilingual-cased", "gpt2", "t5-small"];
const CORPORA = [
  ["ud/mt_mudt", "train"],
  ["ud/cs_cac", "dev"],
];
const dir = new URL("../../packages/tokenize/tokenizers/", import.meta.url).pathname;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Word ids from the Rust encoding's character offsets (its npm binding takes no pre-tokenized input). */
function rustWordIds(encoding, words) {
  const wordOfChar = [];
  words.forEach((word, w) => {
    if (w > 0) wordOfChar.push(w);
    for (const _ of word) wordOfChar.push(w);
  });
  const special = encoding.getSpecialTokensMask();
  return encoding.getOffsets().map(([, end], i) => (special[i] === 1 ? null : wordOfChar[end - 1]));
}

async function time(fn) {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

const rows = [];
for (const [corpus, split] of CORPORA) {
  const sentences = await loadCorpus(corpus, split);
  const words = sentences.reduce((n, s) => n + s.words.length, 0);
  for (const name of TOKENIZERS) {
    const path = `${dir}${name}`;
    const runs = { cold: [], warm: [], rust: [], rustBatch: [] };
    let checksum = 0;
    for (let r = 0; r < REPEATS; r++) {
      // cold: a fresh tokenizer, so no word is cached yet
      const fresh = WordTokenizer.fromFile(path);
      runs.cold.push(
        await time(() => {
          for (const s of sentences)
            checksum += alignLabels(fresh.encodeWords(s.words).wordIds, s.tags).length;
        }),
      );
      // warm: the same tokenizer again (its word cache filled by the cold pass)
      runs.warm.push(
        await time(() => {
          for (const s of sentences)
            checksum += alignLabels(fresh.encodeWords(s.words).wordIds, s.tags).length;
        }),
      );
      const theirs = rust.Tokenizer.fromFile(`${path}/tokenizer.json`);
      theirs.disableTruncation();
      runs.rust.push(
        await time(async () => {
          for (const s of sentences) {
            const encoding = await theirs.encode(s.words.join(" "), null, { addSpecialTokens: true });
            checksum += alignLabels(rustWordIds(encoding, s.words), s.tags).length;
          }
        }),
      );
      runs.rustBatch.push(
        await time(async () => {
          const encodings = await theirs.encodeBatch(sentences.map((s) => s.words.join(" ")));
          encodings.forEach((encoding, i) => {
            checksum += alignLabels(rustWordIds(encoding, sentences[i].words), sentences[i].tags).length;
          });
        }),
      );
    }
    const rate = (xs) => words / median(xs);
    const row = {
      corpus,
      tokenizer: name,
      words,
      cold: rate(runs.cold),
      warm: rate(runs.warm),
      rust: rate(runs.rust),
      rustBatch: rate(runs.rustBatch),
    };
    rows.push(row);
    console.error(`${corpus} ${name}: done (checksum ${checksum})`);
  }
}

const k = (x) => `${(x / 1000).toFixed(0)}k`;
const header =
  "| corpus | tokenizer | words | xlt cold (words/s) | xlt warm cache | Rust encode | Rust encodeBatch | xlt cold / Rust encode | xlt warm / Rust encode |";
const lines = [
  header,
  "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.corpus} | ${r.tokenizer} | ${r.words} | ${k(r.cold)} | ${k(r.warm)} | ${k(r.rust)} | ${k(r.rustBatch)} | ${(r.cold / r.rust).toFixed(2)} | ${(r.warm / r.rust).toFixed(2)} |`,
  ),
];
console.log(lines.join("\n"));
const report = `# @xlt/tokenize benchmark: encodeWords + alignLabels vs the Rust tokenizers binding

Words per second (median of ${REPEATS} repeats) over whole UD treebank splits, in one Node ${process.version}
process on ${process.platform}-${process.arch}. Each pass encodes every sentence and aligns its tags
(\`strategy: "first"\`).

- **xlt cold**: \`WordTokenizer.encodeWords\` (pure-JS \`@huggingface/tokenizers\`) with a fresh
  tokenizer, so its per-word cache starts empty.
- **xlt warm**: the same tokenizer on a second pass (every word cached): the steady state of
  multi-epoch training.
- **Rust encode**: the \`tokenizers\` 0.23.2 npm binding, \`encode(words.join(" "))\` one sentence at a
  time (it takes no pre-tokenized input), word ids from offsets, same alignment.
- **Rust encodeBatch**: the whole split in one \`encodeBatch\` call (parallel in Rust), then alignment.

The machine is shared (2 cores, other jobs running): treat ratios as rough.

${lines.join("\n")}
`;
writeFileSync(new URL("./RESULTS.md", import.meta.url), report);
