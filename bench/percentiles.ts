/** p50/p95/p99/max of latencies in ms (rounded), or nulls when there were none. */
export function percentiles(values: readonly number[]) {
  if (values.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number)
  return { count: values.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) }
}

export type Percentiles = ReturnType<typeof percentiles>

/** "850 ms" below ten seconds, "12.3 s" above: figures from 2 ms to minutes stay readable. */
export const formatMs = (ms: number | null) =>
  ms === null ? '–' : ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`

export const describePercentiles = (p: Percentiles) =>
  p.count === 0
    ? 'no samples'
    : `p50 ${formatMs(p.p50)}, p95 ${formatMs(p.p95)}, p99 ${formatMs(p.p99)}, max ${formatMs(p.max)} (${p.count} samples)`
