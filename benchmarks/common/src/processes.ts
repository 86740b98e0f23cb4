import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A number with a thousands separator and exactly `digits` decimals (`1,234.50`). */
export const format = (value: number, digits = 0): string =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The JSON value on the last line of a child's output (progress may come before it). */
function lastJson<T>(out: string): T {
  return JSON.parse(out.trim().split("\n").at(-1) ?? "null");
}

/**
 * The environment of a torch peer. Debian's torch does its matrix products in OpenBLAS, whose own
 * thread pool ignores `torch.set_num_threads` and takes every core: with `threads`, OpenBLAS and
 * OpenMP get that many, so that a row's thread count holds for both sides; `"all"` leaves torch as
 * shipped.
 */
export function peerEnv(threads: number | "all"): NodeJS.ProcessEnv {
  if (threads === "all") return process.env;
  return { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
}

/**
 * Runs a Python peer (`/usr/bin/python3 script job`) with OpenBLAS held to `threads` (see
 * {@link peerEnv}) and returns the JSON of its last output line, or null when it cannot run (no
 * Debian python3-torch here).
 */
export function runPeerScript<T>(script: URL, job: unknown, threads: number | "all"): T | null {
  try {
    const out = execFileSync("/usr/bin/python3", [fileURLToPath(script), JSON.stringify(job)], {
      encoding: "utf8",
      maxBuffer: 1 << 24,
      env: peerEnv(threads),
    });
    return lastJson<T>(out);
  } catch {
    return null;
  }
}

/** Runs `node module --child job` (a measurement in a process of its own) and returns its last JSON line. */
export function runChild<T>(module: string, job: unknown): T {
  const out = execFileSync(process.execPath, [module, "--child", JSON.stringify(job)], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return lastJson<T>(out);
}
