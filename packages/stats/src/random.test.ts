import { describe, expect, it } from "vitest";
import { Mt19937 } from "./random.js";

describe("Mt19937", () => {
  it("gives the reference MT19937 output for init_genrand(5489)", () => {
    const random = new Mt19937(5489);
    expect(random.nextUint32()).toBe(3499211612);
    expect(random.nextUint32()).toBe(581869302);
  });

  it("draws integers below n", () => {
    const random = new Mt19937(1);
    for (let i = 0; i < 1000; i++) {
      const k = random.integer(7);
      expect(k >= 0 && k < 7 && Number.isInteger(k)).toBe(true);
    }
  });

  it("refuses a seed numpy would refuse", () => {
    expect(() => new Mt19937(-1)).toThrow("Mt19937: seed: expected an integer in 0..2^32-1, got -1");
    expect(() => new Mt19937(1).integer(2 ** 22)).toThrow(
      "Mt19937.integer: n: expected an integer in 1..2^21, got 4194304",
    );
  });
});
