import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { median, table } from "@xlt/bench-common";
import { add, createSession, crossEntropy, Graph, type Tensor, toOnnx, toOrtTensor } from "@xlt/graph";
import { flatten, Mlp } from "@xlt/nn";
import { compile } from "@xlt/runtime";

interface Config {
  readonly name: string;
  readonly batch: number;
  readonly sizes: readonly number[];
}

const CONFIGS: readonly Config[] = [
  { name: "MLP small", batch: 64, sizes: [128, 256, 256, 17] },
  { name: "MLP medium", batch: 256, sizes: [512, 1024, 1024, 50] },
];
const THREADS = [1, 2];
const WARMUP = 10;
const REPEATS = 7;
const STEPS = 20;

/** Median wall-clock and process-CPU seconds per step (CPU time counts ORT's threads too). */
async function timeSteps(step: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < WARMUP; i += 1) await step();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < REPEATS; r += 1) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    for (let i = 0; i < STEPS; i += 1) await step();
    const used = process.cpuUsage(startCpu);
    wall.push((performance.now() - start) / STEPS / 1000);
    cpu.push((used.user + used.system) / STEPS / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** A graph that moves what a training step moves (parameters and two AdamW slots in and out) and computes almost nothing. */
async function dataMovement(model: Mlp, threads: number): Promise<number> {
  const graph = new Graph();
  const outputs: Record<string, Tensor> = {};
  const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
  for (const [path, parameter] of flatten(model.parameters)) {
    for (const slot of ["p", "m", "v"]) {
      const name = `${slot}:${path}`;
      const input = graph.input(name, "float32", parameter.shape);
      outputs[`next:${name}`] = add(input, input);
      feeds[name] = toOrtTensor("float32", {
        data: new Float32Array(parameter.shape.reduce((a, b) => a * b, 1)),
        dims: parameter.shape,
      });
    }
  }
  const session = await createSession(toOnnx(outputs), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const { wall } = await timeSteps(() => session.run(feeds));
  await session.release();
  return wall;
}

interface Row {
  readonly config: Config;
  readonly threads: number;
  readonly createSeconds: number;
  readonly stepSeconds: number;
  readonly stepCpuSeconds: number;
  readonly movementSeconds: number;
}

async function measure(config: Config, threads: number): Promise<Row> {
  const model = new Mlp(config.sizes, { activation: "relu" });
  const features = config.sizes[0] as number;
  const classes = config.sizes[config.sizes.length - 1] as number;
  const created = performance.now();
  const session = await compile(
    model,
    (params, { x, y }, context) => ({ loss: crossEntropy(model.forward(params, x, context), y) }),
    {
      inputs: {
        x: { dtype: "float32", shape: ["batch", features] },
        y: { dtype: "int64", shape: ["batch"] },
      },
      optimizer: { kind: "adamw" },
      groups: [{ name: "all", match: /./, lr: 1e-3, weightDecay: 0.01 }],
      clipNorm: 1,
      threads,
    },
  );
  const createSeconds = (performance.now() - created) / 1000;
  const batch = {
    x: {
      data: Float32Array.from({ length: config.batch * features }, (_, i) => Math.sin(i)),
      dims: [config.batch, features],
    },
    y: {
      data: BigInt64Array.from({ length: config.batch }, (_, i) => BigInt(i % classes)),
      dims: [config.batch],
    },
  };
  const step = await timeSteps(() => session.trainStep(batch));
  await session.release();
  return {
    config,
    threads,
    createSeconds,
    stepSeconds: step.wall,
    stepCpuSeconds: step.cpu,
    movementSeconds: await dataMovement(model, threads),
  };
}

interface Peer {
  readonly version: string;
  readonly seconds: Record<string, number>;
  readonly cpuSeconds: Record<string, number>;
}

function torchPeer(config: Config): Peer | null {
  try {
    const out = execFileSync(
      "/usr/bin/python3",
      [
        new URL("../peer_torch.py", import.meta.url).pathname,
        JSON.stringify({
          sizes: config.sizes,
          batch: config.batch,
          threads: THREADS,
          warmup: WARMUP,
          repeats: REPEATS,
          steps: STEPS,
        }),
      ],
      { encoding: "utf8" },
    );
    const parsed = JSON.parse(out) as {
      torch: string;
      seconds_per_step: Record<string, number>;
      cpu_seconds_per_step: Record<string, number>;
    };
    return {
      version: parsed.torch,
      seconds: parsed.seconds_per_step,
      cpuSeconds: parsed.cpu_seconds_per_step,
    };
  } catch {
    return null;
  }
}

const format = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rows: Row[] = [];
const peers = new Map<string, Peer | null>();
// The peer runs before and after xlt and keeps its faster median per thread count, so load that
// comes and goes on the shared machine favours torch rather than xlt.
for (const config of CONFIGS) {
  const before = torchPeer(config);
  for (const threads of THREADS) rows.push(await measure(config, threads));
  const after = torchPeer(config);
  if (before && after) {
    const seconds: Record<string, number> = {};
    const cpuSeconds: Record<string, number> = {};
    for (const [threads, value] of Object.entries(before.seconds)) {
      seconds[threads] = Math.min(value, after.seconds[threads] ?? value);
      cpuSeconds[threads] = Math.min(before.cpuSeconds[threads] ?? value, after.cpuSeconds[threads] ?? value);
    }
    peers.set(config.name, { version: before.version, seconds, cpuSeconds });
  } else peers.set(config.name, before ?? after);
}

const lines: string[] = [];
const parameters = (config: Config) =>
  config.sizes.slice(1).reduce((sum, size, i) => sum + size * ((config.sizes[i] as number) + 1), 0);
lines.push("# Training step benchmark: @xlt/runtime vs torch eager (CPU)");
lines.push("");
lines.push(
  `One training step = forward, cross-entropy, backward, clipping by global norm and AdamW (decay on weights only), float32. xlt runs it as one ONNX graph on onnxruntime-node; the peer is torch eager (Debian python3-torch) on identical shapes in the same run, measured at each thread count before and after xlt (keeping the faster) and quoted at its fastest thread count. Medians of ${REPEATS} repeats of ${STEPS} steps after ${WARMUP} warm-up steps. Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores (shared with other jobs: load average ${loadavg()[0]?.toFixed(1)} at the end of the run), node ${process.version}.`,
);
lines.push("");
const header = [
  "model",
  "params",
  "batch",
  "threads",
  "xlt steps/s",
  "torch steps/s (best)",
  "xlt/torch",
  "session creation",
  "data movement / step",
];
const body = rows.map((row) => {
  const peer = peers.get(row.config.name);
  const best = peer ? Math.min(...Object.values(peer.seconds)) : null;
  return [
    row.config.name,
    format(parameters(row.config)),
    String(row.config.batch),
    String(row.threads),
    format(1 / row.stepSeconds),
    best ? format(1 / best) : "n/a",
    best ? `${format(best / row.stepSeconds, 2)}×` : "n/a",
    `${format(row.createSeconds * 1000)} ms`,
    `${format(row.movementSeconds * 1000, 2)} ms of ${format(row.stepSeconds * 1000, 2)} ms`,
  ];
});
lines.push(table(header, body));
lines.push("");
lines.push(
  "One thread each, in process CPU time per step (user + system; what other jobs on the shared machine disturb least, so the steadier comparison):",
);
lines.push("");
lines.push(
  table(
    ["model", "xlt CPU ms/step", "torch CPU ms/step", "xlt/torch"],
    rows
      .filter((row) => row.threads === 1)
      .map((row) => {
        const peer = peers.get(row.config.name)?.cpuSeconds["1"];
        return [
          row.config.name,
          format(row.stepCpuSeconds * 1000, 2),
          peer ? format(peer * 1000, 2) : "n/a",
          peer ? `${format(peer / row.stepCpuSeconds, 2)}×` : "n/a",
        ];
      }),
  ),
);
lines.push("");
for (const [name, peer] of peers) {
  if (!peer) lines.push(`- ${name}: torch peer unavailable (/usr/bin/python3 with torch not found)`);
  else
    lines.push(
      `- ${name}: torch ${peer.version} seconds per step by threads: ${Object.entries(peer.seconds)
        .map(([t, s]) => `${t} → ${format(s * 1000, 2)} ms`)
        .join(", ")}`,
    );
}
lines.push("");
lines.push(
  "Session creation is `compile` end to end: building the training and evaluation graphs (autodiff, optimizer), serialising them and creating both ORT sessions. Data movement is the time of a graph that takes the parameters and both AdamW slots in and hands them back (what every step moves across the JS boundary, outputs copied by ORT) with next to no compute: the floor of per-step overhead.",
);
const text = `${lines.join("\n")}\n`;
writeFileSync(new URL("../RESULTS.md", import.meta.url), text);
console.log(text);
