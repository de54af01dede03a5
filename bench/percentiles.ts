/** p50/p95/p99/max of latencies in ms (rounded), or nulls when there were none. */
export function percentiles(values: readonly number[]) {
  if (values.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number)
  return { count: values.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) }
}

export type Percentiles = ReturnType<typeof percentiles>

export const describePercentiles = (p: Percentiles) =>
  p.count === 0
    ? 'no samples'
    : `p50 ${p.p50} ms, p95 ${p.p95} ms, p99 ${p.p99} ms, max ${p.max} ms (${p.count} samples)`
