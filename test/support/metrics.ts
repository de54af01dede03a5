import parsePrometheusTextFormat, { type Family } from 'parse-prometheus-text-format'

/** One scrape of a process's /metrics, parsed, with a reader for single values. */
export async function scrape(probesUrl: string) {
  const response = await fetch(`${probesUrl}/metrics`)
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`)
  const text = await response.text()
  const families = parsePrometheusTextFormat(text)
  const byName = new Map(families.map((f) => [f.name, f]))
  return {
    text,
    names: new Set(byName.keys()),
    /**
     * The sum of a counter's or gauge's samples whose labels include `labels` (a histogram's or
     * summary's count), 0 when there are none yet.
     */
    value(name: string, labels: Record<string, string> = {}): number {
      const family: Family | undefined = byName.get(name)
      let total = 0
      for (const sample of family?.metrics ?? []) {
        const matches = Object.entries(labels).every(([k, v]) => sample.labels?.[k] === v)
        if (matches) total += Number(sample.value ?? sample.count ?? 0)
      }
      return total
    },
  }
}

export type Scrape = Awaited<ReturnType<typeof scrape>>
