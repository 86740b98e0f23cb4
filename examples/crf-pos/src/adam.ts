import { TaggerError } from "./errors.js";

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam (Kingma & Ba 2015) over a fixed list of parameter arrays, updated in place:
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − lr·m̂ / (√v̂ + ε) with bias-corrected m̂, v̂.
 * An L2 penalty belongs in the gradient (it is part of the loss), as in the original paper.
 */
export class Adam {
  readonly #parameters: Float64Array[];
  readonly #m: Float64Array[];
  readonly #v: Float64Array[];
  readonly #learningRate: number;
  readonly #beta1: number;
  readonly #beta2: number;
  readonly #epsilon: number;
  #step = 0;

  constructor(parameters: Float64Array[], options: AdamOptions) {
    const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = options;
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
      throw new TaggerError("Adam", "options.learningRate", "a finite number > 0", String(learningRate));
    }
    for (const [name, beta] of [
      ["beta1", beta1],
      ["beta2", beta2],
    ] as const) {
      if (!(beta >= 0 && beta < 1))
        throw new TaggerError("Adam", `options.${name}`, "a number in [0, 1)", String(beta));
    }
    this.#parameters = parameters;
    this.#m = parameters.map((p) => new Float64Array(p.length));
    this.#v = parameters.map((p) => new Float64Array(p.length));
    this.#learningRate = learningRate;
    this.#beta1 = beta1;
    this.#beta2 = beta2;
    this.#epsilon = epsilon;
  }

  /** One update with `gradients[i]` the gradient of `parameters[i]`. */
  step(gradients: Float64Array[]): void {
    if (gradients.length !== this.#parameters.length) {
      throw new TaggerError(
        "Adam.step",
        "gradients",
        `${this.#parameters.length} arrays`,
        String(gradients.length),
      );
    }
    this.#step++;
    const b1 = this.#beta1;
    const b2 = this.#beta2;
    const c1 = 1 - b1 ** this.#step;
    const c2 = 1 - b2 ** this.#step;
    const rate = this.#learningRate / c1;
    const eps = this.#epsilon;
    for (let i = 0; i < this.#parameters.length; i++) {
      const p = this.#parameters[i] as Float64Array;
      const g = gradients[i] as Float64Array;
      if (g.length !== p.length) {
        throw new TaggerError("Adam.step", `gradients[${i}].length`, String(p.length), String(g.length));
      }
      const m = this.#m[i] as Float64Array;
      const v = this.#v[i] as Float64Array;
      for (let index = 0; index < p.length; index++) {
        const gi = g[index] as number;
        const mi = b1 * (m[index] as number) + (1 - b1) * gi;
        const vi = b2 * (v[index] as number) + (1 - b2) * gi * gi;
        m[index] = mi;
        v[index] = vi;
        p[index] = (p[index] as number) - (rate * mi) / (Math.sqrt(vi / c2) + eps);
      }
    }
  }
}
