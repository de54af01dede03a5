import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import type { BenchResult } from '../../bench/report.ts'

const out = mkdtempSync(join(tmpdir(), 'devtwin-bench-results-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

// Keeps `npm run bench` working: a tiny fleet, every part real, figures not judged.
it('runs the pipeline bench on a tiny fleet and accounts for every reading', async () => {
  const script = new URL('../../bench/run.ts', import.meta.url).pathname
  const args = ['--devices', '4', '--rate', '2', '--duration', '3', '--sample', '2']
  // Half the fleet with health episodes: a 3 s step sees an out-of-range one raise an alert.
  const health = ['--unhealthy', '0.5']
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    script,
    ...args,
    ...health,
    ...['--limit-seconds', '2', '--out', out],
  ])
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const [code] = await once(child, 'exit')
  expect(code, output).toBe(0)
  const json = readdirSync(out).find((f) => f.endsWith('.json'))
  const result = JSON.parse(readFileSync(join(out, json as string), 'utf8')) as BenchResult
  const [step] = result.steps
  expect(step?.sent).toBeGreaterThan(0)
  expect(step?.stored).toBe(step?.sent)
  expect(step?.lost).toBe(0)
  expect(step?.telemetryMs.count).toBeGreaterThan(0)
  expect(step?.liveEventMs.count).toBeGreaterThan(0)
  expect(step?.liveQueryMs.count).toBeGreaterThan(0)
  expect(step?.alerts.matched).toBeGreaterThan(0)
  expect(step?.lag.rounds).toBeGreaterThan(0)
  expect(step?.deliveries).toBeGreaterThan(0)
  expect(result.histories?.eventsPerDelivery).toBeGreaterThan(0)
  expect(result.processes.ingest?.cpuMsPerThousandReadings).not.toBeNull()
  expect(result.limits?.broker.messagesPerSecond).toBeGreaterThan(0)
  expect(result.limits?.temporal.signalsPerSecond).toBeGreaterThan(0)
  expect(result.limits?.temporal.handledPerSecond).toBeGreaterThan(0)
  expect(step?.twinUpdatesPerSecond).toBeGreaterThan(0)
  expect(Object.keys(result.processes)).toEqual(
    expect.arrayContaining(['worker', 'ingest', 'api', 'temporal dev server', 'postgres']),
  )
}, 180_000)
