import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BrokerLimit } from './limits/broker.ts'
import type { TemporalLimit } from './limits/temporal.ts'
import { describePercentiles, type Percentiles } from './percentiles.ts'
import type { ProcessCost } from './processes.ts'

export interface StepResult {
  offeredPerSecond: number
  seconds: number
  sent: number
  sentPerSecond: number
  stored: number
  lost: number
  duplicates: number
  ingestPerSecond: number
  signals: number
  signalsPerSecond: number
  /** Batches (and other steps) the twins applied and wrote a second; null embedded. */
  twinUpdatesPerSecond?: number | null
  readingsPerSignal: number | null
  telemetryMs: Percentiles
  freshnessMs: Percentiles
}

export interface BenchResult {
  at: string
  mode: 'steady' | 'ramp'
  stack: string
  devices: number
  batchMs: number
  stepSeconds: number
  steps: StepResult[]
  knee: StepResult | null
  limits: { broker: BrokerLimit; temporal: TemporalLimit } | null
  processes: Record<string, ProcessCost>
}

const ratio = (a: number, b: number) => `${Math.round((a / b) * 100)} %`

/** Writes `<dir>/<mode>-<time>.json` and `.md`; returns the Markdown and the paths. */
export function writeResults(result: BenchResult, dir: string) {
  const lines = [
    `# devtwin bench: ${result.mode}, ${result.at}`,
    '',
    `${result.devices} devices, ${result.stack}, ingest window ${result.batchMs} ms, ${result.stepSeconds} s a step.`,
    '',
    '| offered msg/s | sent/s | lost | dupl. | stored/s | signals/s | twin updates/s | readings/signal | publish → telemetry sub | publish → twin |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...result.steps.map(
      (s) =>
        `| ${s.offeredPerSecond} | ${s.sentPerSecond} | ${s.lost} | ${s.duplicates} | ${s.ingestPerSecond} | ${s.signalsPerSecond} | ${s.twinUpdatesPerSecond ?? '–'} | ${s.readingsPerSignal ?? '–'} | ${describePercentiles(s.telemetryMs)} | ${describePercentiles(s.freshnessMs)} |`,
    ),
    '',
  ]
  if (result.mode === 'ramp') {
    lines.push(
      result.knee
        ? `**Knee**: ${result.knee.sentPerSecond} msg/s sustained with 0 lost and twin freshness p99 ${result.knee.freshnessMs.p99} ms.`
        : '**Knee**: no step passed (loss, or twin freshness p99 over 5 s, at the first step).',
      '',
    )
  }
  const best = result.knee ?? result.steps.at(-1)
  if (result.limits && best) {
    const { broker, temporal } = result.limits
    lines.push(
      `Limits of the same parts, same run: bare broker ${broker.messagesPerSecond} msg/s (QoS 1 to a subscriber that does nothing); Temporal ${temporal.signalsPerSecond} signals/s accepted, of which its workflows handled ${temporal.handledPerSecond}/s meanwhile (tight loop of signals to running workflows that only count them).`,
      '',
      `Ratios: ingest ${ratio(best.ingestPerSecond, broker.messagesPerSecond)} of the broker limit; ingest's signals ${ratio(best.signalsPerSecond, temporal.signalsPerSecond)} of the signals Temporal accepted${best.twinUpdatesPerSecond ? `; twin updates ${ratio(best.twinUpdatesPerSecond, temporal.handledPerSecond)} of the signals its workflows handled` : ''}.`,
      '',
    )
  }
  lines.push(
    '| process | CPU s | peak RSS MiB |',
    '|---|---|---|',
    ...Object.entries(result.processes).map(
      ([name, p]) => `| ${name} | ${p.cpuSeconds} | ${p.peakRssMiB} |`,
    ),
    '',
  )
  const markdown = lines.join('\n')
  mkdirSync(dir, { recursive: true })
  const name = `${result.mode}-${result.at.replace(/[:.]/g, '-')}`
  const files = [join(dir, `${name}.json`), join(dir, `${name}.md`)]
  writeFileSync(files[0] as string, `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(files[1] as string, `${markdown}\n`)
  return { markdown, files }
}
