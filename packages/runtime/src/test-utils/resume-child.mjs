// Trains a small MLP with dropout with the Trainer, checkpointing every step. With KILL_AT=n it SIGKILLs itself
// just before optimizer step n (mid-epoch); run again with the same directory to resume.
// Usage: node resume-child.mjs <checkpointDir> <logFile> <outFile>
import { writeFileSync } from "node:fs";
import { crossEntropy } from "@xlt/graph";
import { Mlp } from "@xlt/nn";
import { compile, cosineWithWarmup, Trainer } from "../../dist/index.js";

const [directory, logFile, outFile] = process.argv.slice(2);
const killAt = process.env.KILL_AT ? Number(process.env.KILL_AT) : -1;

const model = new Mlp([4, 8, 3], { activation: "tanh", dropout: 0.2, seed: 5 });
const session = await compile(
  model,
  (params, { x, y }, context) => ({ loss: crossEntropy(model.forward(params, x, context), y) }),
  {
    inputs: { x: { dtype: "float32", shape: ["batch", 4] }, y: { dtype: "int64", shape: ["batch"] } },
    optimizer: { kind: "adamw" },
    groups: [{ name: "all", match: /./, lr: 0.05, weightDecay: 0.01 }],
    clipNorm: 1,
    seed: 3,
    threads: 1,
  },
);

const examples = Array.from({ length: 40 }, (_, i) => {
  const x = [Math.sin(i), Math.cos(i * 0.7), (i % 5) / 5, ((i * 7) % 11) / 11];
  return { x, y: (i * 3) % 3 === 0 ? i % 3 : 0 };
});

const trainer = new Trainer({
  session,
  epochs: 3,
  seed: 11,
  checkpointDir: directory,
  checkpointEvery: 1,
  logFile,
  schedule: (step) => {
    if (step === killAt) process.kill(process.pid, "SIGKILL");
    return cosineWithWarmup(2, 15)(step);
  },
  batches: (_epoch, random) => {
    const order = random.shuffle(examples.map((_, i) => i));
    const batches = [];
    for (let start = 0; start < order.length; start += 8) {
      const rows = order.slice(start, start + 8).map((i) => examples[i]);
      batches.push({
        x: { data: Float32Array.from(rows.flatMap((row) => row.x)), dims: [rows.length, 4] },
        y: { data: BigInt64Array.from(rows.map((row) => BigInt(row.y))), dims: [rows.length] },
      });
    }
    return batches;
  },
});
const result = await trainer.run();
const parameters = Object.fromEntries(
  [...session.parameters].map(([name, data]) => [name, Array.from(data)]),
);
writeFileSync(outFile, JSON.stringify({ result, parameters }));
