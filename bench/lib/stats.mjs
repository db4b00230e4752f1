// Order statistics for the benches' tables (sorted input; nearest-rank p90).

/** { n, min, median, p90, max } of sorted numbers, or undefined for none. */
export function stats(sorted) {
  if (sorted.length === 0) return undefined;
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { n, min: sorted[0], median, p90: sorted[Math.ceil(0.9 * n) - 1], max: sorted[n - 1] };
}

/** A figure for a table: whole numbers from 100 up, one decimal below; — for none. */
export function fmt(x) {
  return x === undefined ? '—' : x >= 100 ? String(Math.round(x)) : x.toFixed(1);
}
