/** Least-squares slope of log(y) against log(x): 1 means y grows linearly in x. */
export function logLogSlope(x: readonly number[], y: readonly number[]): number {
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let index = 0; index < lx.length; index++) {
    num += ((lx[index] as number) - mx) * ((ly[index] as number) - my);
    den += ((lx[index] as number) - mx) ** 2;
  }
  return num / den;
}

/** Wall-clock and process-CPU seconds of each timed run. */
export interface Timings {
  seconds: number[];
  cpuSeconds: number[];
}

/**
 * Runs `fn` `warmup` times, then `repeats` timed times. CPU time (`process.cpuUsage`, user + system,
 * which also counts V8's helper threads) is what other processes on a shared machine disturb least.
 */
export function timeRuns(fn: () => unknown, repeats: number, warmup: number): Timings {
  for (let index = 0; index < warmup; index++) fn();
  const timings: Timings = { seconds: [], cpuSeconds: [] };
  for (let index = 0; index < repeats; index++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    fn();
    const cpu = process.cpuUsage(c0);
    timings.seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    timings.cpuSeconds.push((cpu.user + cpu.system) / 1e6);
  }
  return timings;
}
