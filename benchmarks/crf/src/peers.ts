import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Timings } from "./stats.js";

/** `benchmarks/peers/`, next to this package. */
export const PEERS_DIRECTORY = fileURLToPath(new URL("../../peers/", import.meta.url));
/** Debian's python with `python3-torch` (not a pyenv one): the default interpreter for the torch peer. */
export const PYTHON = "/usr/bin/python3";

export type PeerOp = "decode" | "logPartition" | "nll";

/** What a peer prints: wall-clock and CPU seconds per timed repeat for each op it ran, and its answers. */
export interface PeerOutput {
  peer: "torch" | "c";
  torch?: string;
  decode?: Timings;
  logPartition?: Timings;
  nll?: Timings;
  paths?: number[][];
  scores?: number[];
  logZ?: number[];
  loss?: number;
}

/** A peer that can run, or why it cannot. */
export type Peer =
  | { available: true; command: string[]; version: string }
  | { available: false; reason: string };

function failure(result: ReturnType<typeof spawnSync>, what: string): string {
  if (result.error) return `${what}: ${result.error.message}`;
  const stderr = String(result.stderr ?? "").trim();
  return `${what} exited with ${result.status}${stderr ? `: ${stderr.split("\n").slice(-3).join(" / ")}` : ""}`;
}

/** Compiles `peers/viterbi.c` with `compiler -O2` (by default `cc`) into `directory`. */
export function buildCPeer(directory: string, compiler = "cc"): Peer {
  const binary = join(directory, "viterbi");
  const compile = spawnSync(compiler, ["-O2", "-std=c11", "-o", binary, join(PEERS_DIRECTORY, "viterbi.c")], {
    encoding: "utf8",
  });
  if (compile.status !== 0)
    return { available: false, reason: failure(compile, `${compiler} -O2 peers/viterbi.c`) };
  const version = spawnSync(compiler, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0] ?? compiler;
  return { available: true, command: [binary], version: `${version.trim()}, -O2` };
}

/** Checks that `python` (by default /usr/bin/python3) imports torch. */
export function findTorchPeer(python = PYTHON): Peer {
  const probe = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
  if (probe.status !== 0) return { available: false, reason: failure(probe, `${python} -c "import torch"`) };
  return {
    available: true,
    command: [python, join(PEERS_DIRECTORY, "crf_torch.py")],
    version: `torch ${probe.stdout.trim()} (CPU, 1 thread, float32)`,
  };
}

/** Runs a peer on an input file; its JSON answer, or an error. */
export function runPeer(
  peer: Extract<Peer, { available: true }>,
  input: string,
  repeats: number,
  warmup: number,
  ops?: readonly PeerOp[],
): PeerOutput {
  const [program, ...args] = peer.command as [string, ...string[]];
  const result = spawnSync(
    program,
    [...args, input, String(repeats), String(warmup), ...(ops ? [ops.join(",")] : [])],
    {
      encoding: "utf8",
      maxBuffer: 1 << 30,
      env: { ...process.env, OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" },
    },
  );
  if (result.status !== 0) throw new Error(failure(result, program));
  return JSON.parse(result.stdout) as PeerOutput;
}
