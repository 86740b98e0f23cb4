import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { format, median, runPeerScript, table } from "@xlt/bench-common";
import { SequenceTagger } from "@xlt/heads";

// The shapes the issue names: vocabulary 5000, embeddings 100, BiLSTM 2 × 128, 17 tags, batch 32 × 40.
const CONFIG = { vocab: 5000, dim: 100, hidden: 128, layers: 2, tags: 17, batch: 32, steps: 40 };
const THREADS = [1, 2];
const WARMUP = 3;
const REPEATS = 5;
const STEPS_PER_REPEAT = 4;
const PEER_STEPS_PER_REPEAT = 2;

function tagger(): SequenceTagger {
  const words = Array.from({ length: CONFIG.vocab - 2 }, (_, i) => `w${i}`);
  return new SequenceTagger({
    options: {
      head: "crf",
      scheme: null,
      wordDim: CONFIG.dim,
      minCount: 1,
      lowercase: false,
      charEncoder: "none",
      charDim: 16,
      charHidden: 16,
      cnnWidth: 3,
      subwordDim: 0,
      hidden: CONFIG.hidden,
      layers: CONFIG.layers,
      layerMix: "none",
      dropout: 0,
      seed: 0,
      dtype: "float32",
    },
    labels: Array.from({ length: CONFIG.tags }, (_, i) => `T${i}`),
    words: { words, lowercase: false },
    chars: [],
  });
}

/** The same synthetic batch as the peer: word id (b·131 + t·17) mod (V − 2) + 2, tag (b + t) mod K. */
function sentences() {
  return Array.from({ length: CONFIG.batch }, (_, b) => ({
    words: Array.from({ length: CONFIG.steps }, (_, t) => `w${(b * 131 + t * 17) % (CONFIG.vocab - 2)}`),
    tags: Array.from({ length: CONFIG.steps }, (_, t) => `T${(b + t) % CONFIG.tags}`),
  }));
}

interface Row {
  readonly threads: number;
  readonly compileSeconds: number;
  readonly stepSeconds: number;
  /** Median CPU time of this process (all threads) per step. */
  readonly cpuSeconds: number;
}

async function measure(threads: number): Promise<Row> {
  const model = tagger();
  const started = performance.now();
  const session = await model.compile({
    learningRates: { embeddings: 1e-3, lstm: 1e-3, emission: 1e-3, crf: 1e-3 },
    threads,
  });
  const compileSeconds = (performance.now() - started) / 1000;
  const batch = model.encode(sentences());
  for (let i = 0; i < WARMUP; i += 1) await session.trainStep(batch);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let r = 0; r < REPEATS; r += 1) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < STEPS_PER_REPEAT; i += 1) await session.trainStep(batch);
    times.push((performance.now() - start) / STEPS_PER_REPEAT / 1000);
    const cpu = process.cpuUsage(cpuStart);
    cpuTimes.push((cpu.user + cpu.system) / 1e6 / STEPS_PER_REPEAT);
  }
  await session.release();
  return { threads, compileSeconds, stepSeconds: median(times), cpuSeconds: median(cpuTimes) };
}

interface Peer {
  readonly version: string;
  readonly seconds: Record<string, number>;
  readonly cpuSeconds: Record<string, number>;
}

/**
 * Runs the torch peer at `threads`. Debian's torch does its matrix products in OpenBLAS, whose own
 * thread pool ignores `torch.set_num_threads` and takes every core: unless `blasAllCores`, OpenBLAS
 * (and OpenMP) are held to the row's thread count, one process per row, so that a row's thread
 * count holds for both sides. `blasAllCores` measures torch as shipped.
 */
function torchPeerAt(threads: number, blasAllCores: boolean): Peer | null {
  const parsed = runPeerScript<{
    torch: string;
    seconds_per_step: Record<string, number>;
    cpu_seconds_per_step: Record<string, number>;
  }>(
    new URL("../peer_torch.py", import.meta.url),
    {
      ...CONFIG,
      threads: [threads],
      warmup: WARMUP,
      repeats: REPEATS,
      stepsPerRepeat: PEER_STEPS_PER_REPEAT,
    },
    blasAllCores ? "all" : threads,
  );
  return parsed
    ? { version: parsed.torch, seconds: parsed.seconds_per_step, cpuSeconds: parsed.cpu_seconds_per_step }
    : null;
}

/** The peer at every thread count of the table (OpenBLAS held to it), rows merged. */
function torchPeer(): Peer | null {
  const runs = THREADS.map((threads) => torchPeerAt(threads, false));
  if (runs.some((run) => run === null)) return null;
  const found = runs.filter((run): run is Peer => run !== null);
  return {
    version: found[0]?.version ?? "unknown",
    seconds: Object.assign({}, ...found.map((run) => run.seconds)),
    cpuSeconds: Object.assign({}, ...found.map((run) => run.cpuSeconds)),
  };
}

/** Seconds per step of torch as Debian ships it: 1 intra-op thread, OpenBLAS on every core. */
function torchShipped(): number | null {
  return torchPeerAt(1, true)?.seconds["1"] ?? null;
}

// The peer runs before and after xlt and keeps its faster median per thread count, so load that
// comes and goes on the shared machine favours torch rather than xlt.
const before = torchPeer();
const shippedBefore = torchShipped();
const rows: Row[] = [];
for (const threads of THREADS) rows.push(await measure(threads));
const after = torchPeer();
const shippedAfter = torchShipped();
const shipped =
  shippedBefore !== null && shippedAfter !== null
    ? Math.min(shippedBefore, shippedAfter)
    : (shippedBefore ?? shippedAfter);
const peer: Peer | null =
  before && after
    ? {
        version: before.version,
        seconds: Object.fromEntries(
          Object.entries(before.seconds).map(([t, s]) => [t, Math.min(s, after.seconds[t] ?? s)]),
        ),
        cpuSeconds: Object.fromEntries(
          Object.entries(before.cpuSeconds).map(([t, s]) => [t, Math.min(s, after.cpuSeconds[t] ?? s)]),
        ),
      }
    : (before ?? after);

const lines: string[] = [];
lines.push("# BiLSTM-CRF training steps: @xlt/heads vs torch (CPU)");
lines.push("");
lines.push(
  `One training step of a BiLSTM-CRF tagger (embeddings ${CONFIG.vocab} × ${CONFIG.dim}, BiLSTM ${CONFIG.layers} × ${CONFIG.hidden} per direction, linear emission, CRF over ${CONFIG.tags} tags, batch ${CONFIG.batch} × ${CONFIG.steps} tokens): forward, CRF negative log-likelihood, backward through time and Adam, float32. xlt runs it as one ONNX graph on onnxruntime-node (the LSTM cell in Scans, its gradient reversed Scans); the peer is torch eager (Debian python3-torch: nn.LSTM and pytorch-crf's algorithm) on the same shapes and batch, measured before and after xlt in the same run (keeping the faster). Medians of ${REPEATS} repeats (xlt ${STEPS_PER_REPEAT} steps each, torch ${PEER_STEPS_PER_REPEAT}) after ${WARMUP} warm-up steps. Machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores (shared with other jobs: load average ${loadavg()[0]?.toFixed(1)} at the end of the run), node ${process.version}.`,
);
lines.push("");
lines.push(
  table(
    ["threads", "xlt steps/s", "torch steps/s", "xlt/torch", "xlt compile"],
    rows.map((row) => {
      const torch = peer?.seconds[String(row.threads)];
      return [
        String(row.threads),
        format(1 / row.stepSeconds, 2),
        torch ? format(1 / torch, 2) : "n/a",
        torch ? `${format(torch / row.stepSeconds, 2)}×` : "n/a",
        `${format(row.compileSeconds * 1000)} ms`,
      ];
    }),
  ),
);
lines.push("");
const bestXlt = Math.min(...rows.map((row) => row.stepSeconds));
const bestTorch = peer ? Math.min(...Object.values(peer.seconds), shipped ?? Number.POSITIVE_INFINITY) : null;
lines.push(
  peer && bestTorch
    ? `torch's rows hold OpenBLAS (which does its matrix products and ignores \`torch.set_num_threads\`) to the row's thread count; as Debian ships it (1 intra-op thread, OpenBLAS on all ${cpus().length} cores) torch runs ${shipped ? format(1 / shipped, 2) : "n/a"} steps/s. Each at its best configuration: xlt ${format(1 / bestXlt, 2)} steps/s, torch ${format(1 / bestTorch, 2)} steps/s, xlt/torch ${format(bestTorch / bestXlt, 2)}× (torch ${peer.version}; above 1 means xlt takes more steps per second).`
    : "torch peer unavailable (/usr/bin/python3 with torch not found).",
);
lines.push("");
lines.push(
  "CPU time per step (process CPU time of all threads, median of the same repeats; on a shared machine it is steadier than the clock, since time spent waiting for a core is not counted):",
);
lines.push("");
lines.push(
  table(
    ["threads", "xlt CPU ms/step", "torch CPU ms/step", "torch/xlt CPU"],
    rows.map((row) => {
      const torch = peer?.cpuSeconds[String(row.threads)];
      return [
        String(row.threads),
        format(row.cpuSeconds * 1000, 1),
        torch ? format(torch * 1000, 1) : "n/a",
        torch ? `${format(torch / row.cpuSeconds, 2)}×` : "n/a",
      ];
    }),
  ),
);
lines.push("");
lines.push(
  "`xlt compile` is `SequenceTagger.compile` end to end: building the training and evaluation graphs (autodiff through the Scans, the optimizer update), serialising them and creating both ORT sessions.",
);
const text = `${lines.join("\n")}\n`;
writeFileSync(new URL("../RESULTS.md", import.meta.url), text);
console.log(text);
