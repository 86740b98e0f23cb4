import { StatsError } from "./errors.js";

const N = 624;
const M = 397;

/**
 * Mersenne Twister MT19937 (Matsumoto & Nishimura 1998), seeded and drawn exactly like numpy's legacy
 * `np.random.seed(seed)` / `np.random.uniform(0, 1)`: the same seed gives numpy's numbers, which is what
 * lets `aso` reproduce deep-significance's bootstrap.
 */
export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new StatsError("Mt19937", "seed", "an integer in 0..2^32-1", String(seed));
    }
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const previous = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, previous ^ (previous >>> 30)) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.state;
    let i = 0;
    for (; i < N - M; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[i + 1]! & 0x7fffffff);
      mt[i] = mt[i + M]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    for (; i < N - 1; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[i + 1]! & 0x7fffffff);
      mt[i] = mt[i + M - N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    const y = (mt[N - 1]! & 0x80000000) | (mt[0]! & 0x7fffffff);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    this.index = 0;
  }

  /** The next 32-bit output. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits (numpy's `random_sample`). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** An integer in [0, n) for 1 ≤ n ≤ 2^21, exactly uniform (Lemire's multiply-and-reject on 32 bits). */
  integer(n: number): number {
    if (!(n >= 1 && n <= 2097152 && Number.isInteger(n))) {
      throw new StatsError("Mt19937.integer", "n", "an integer in 1..2^21", String(n));
    }
    const threshold = 4294967296 % n;
    for (;;) {
      const product = this.nextUint32() * n;
      if (product % 4294967296 >= threshold) return Math.floor(product / 4294967296);
    }
  }
}
