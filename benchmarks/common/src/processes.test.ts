import { describe, expect, it } from "vitest";
import { format, peerEnv, runPeerScript } from "./processes.js";

describe("benchmark process helpers", () => {
  it("formats with a thousands separator and fixed decimals", () => {
    expect(format(1234.5, 2)).toBe("1,234.50");
    expect(format(0.004, 2)).toBe("0.00");
    expect(format(987654)).toBe("987,654");
  });

  it("holds OpenBLAS and OpenMP to a row's thread count, or leaves torch as shipped", () => {
    const one = peerEnv(1);
    expect([one.OPENBLAS_NUM_THREADS, one.OMP_NUM_THREADS]).toEqual(["1", "1"]);
    expect(one.PATH).toBe(process.env.PATH);
    expect(peerEnv("all")).toBe(process.env);
  });

  it("a peer that cannot run gives null, not a crash", () => {
    expect(runPeerScript(new URL("file:///nonexistent/peer.py"), { threads: 1 }, 1)).toBeNull();
  });
});
