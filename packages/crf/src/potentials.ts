/**
 * The CRF's effective log-potentials with constraints applied (a forbidden transition, start or end
 * scores -Infinity), plus the exponentiated, normalised copies the forward-backward fast path uses.
 * Computed once per parameter change; every algorithm reads them and nothing else.
 */
export interface Potentials {
  readonly numTags: number;
  /** shape: [from, to], row-major. */
  readonly transitions: Float64Array;
  /** shape: [to, from]: `transposed[j * K + i] = transitions[i * K + j]`, for loops over `from`. */
  readonly transposed: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** `columnMax[j] = max_i transitions[i, j]`. */
  readonly columnMax: Float64Array;
  /** shape: [to, from]: `exp(transitions[i, j] - columnMax[j])`, each in [0, 1]. */
  readonly expByColumn: Float64Array;
  /** `rowMax[i] = max_j transitions[i, j]`. */
  readonly rowMax: Float64Array;
  /** shape: [from, to]: `exp(transitions[i, j] - rowMax[i])`, each in [0, 1]. */
  readonly expByRow: Float64Array;
}

export function makePotentials(
  numTags: number,
  transitions: Float64Array,
  start: Float64Array,
  end: Float64Array,
  allowed: { transitions: Uint8Array; start: Uint8Array; end: Uint8Array } | null,
): Potentials {
  const K = numTags;
  const effective = new Float64Array(K * K);
  const transposed = new Float64Array(K * K);
  const effectiveStart = new Float64Array(K);
  const effectiveEnd = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    effectiveStart[i] =
      allowed === null || allowed.start[i] ? (start[i] as number) : Number.NEGATIVE_INFINITY;
    effectiveEnd[i] = allowed === null || allowed.end[i] ? (end[i] as number) : Number.NEGATIVE_INFINITY;
    for (let j = 0; j < K; j++) {
      const value =
        allowed === null || allowed.transitions[i * K + j]
          ? (transitions[i * K + j] as number)
          : Number.NEGATIVE_INFINITY;
      effective[i * K + j] = value;
      transposed[j * K + i] = value;
    }
  }
  const columnMax = new Float64Array(K).fill(Number.NEGATIVE_INFINITY);
  const rowMax = new Float64Array(K).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const value = effective[i * K + j] as number;
      if (value > (columnMax[j] as number)) columnMax[j] = value;
      if (value > (rowMax[i] as number)) rowMax[i] = value;
    }
  }
  const expByColumn = new Float64Array(K * K);
  const expByRow = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const value = effective[i * K + j] as number;
      // A column (row) that is all -Infinity stays all zeros: nothing flows through it.
      expByColumn[j * K + i] =
        value === Number.NEGATIVE_INFINITY ? 0 : Math.exp(value - (columnMax[j] as number));
      expByRow[i * K + j] = value === Number.NEGATIVE_INFINITY ? 0 : Math.exp(value - (rowMax[i] as number));
    }
  }
  return {
    numTags,
    transitions: effective,
    transposed,
    start: effectiveStart,
    end: effectiveEnd,
    columnMax,
    expByColumn,
    rowMax,
    expByRow,
  };
}
