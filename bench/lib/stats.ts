// Small statistics helpers; inputs are plain arrays of numbers.

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100); NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Percentiles of a large list, sorting it once in place. */
export function percentilesInPlace(values: Float64Array, ps: number[]): number[] {
  values.sort();
  return ps.map((p) => {
    if (values.length === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * values.length);
    return values[Math.min(values.length - 1, Math.max(0, rank - 1))]!;
  });
}
