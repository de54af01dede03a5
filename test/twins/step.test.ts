import { describe, expect, it } from 'vitest'
import type { TwinBatch } from '../../src/twins/batch.ts'
import type { InboxBatch } from '../../src/twins/inbox.ts'
import { deviceModelSchema } from '../../src/twins/model.ts'
import { toReading } from '../../src/twins/reading.ts'
import { step, stepInbox } from '../../src/twins/step.ts'
import { applyBatch, newTwin } from '../../src/twins/twin.ts'
import { chargePoint } from '../support/models.ts'

const T0 = Date.parse('2026-12-04T09:00:00Z')
const model = deviceModelSchema.parse(chargePoint('cp'))

/** One inbox batch per reading, each arriving when it was taken. */
const inbox = (readings: Parameters<typeof toReading>[0][]): InboxBatch[] =>
  readings.map((raw, i) => {
    const batch: TwinBatch = {
      readings: [toReading(raw, raw.ts ?? T0)],
      statuses: [],
      messages: 1,
      lastTelemetryAt: raw.ts ?? T0,
    }
    return { seq: i + 1, batch }
  })

const power = (ts: number, seq: number, value: number) => ({ ts, seq, values: { power: value } })

describe('stepInbox', () => {
  const waiting = inbox([
    power(T0, 1, 100),
    power(T0 + 5_000, 2, 99_000),
    power(T0 + 10_000, 3, 120),
  ])
  const done = stepInbox(newTwin('cp-1'), waiting, model, T0 + 300_000)

  it('raises and clears an alert whose condition came and went while its batches waited', () => {
    expect(done.alerts.map((a) => [a.sensor, a.kind, a.at])).toEqual([
      ['power', 'OUT_OF_RANGE', T0 + 5_000],
      ['power', null, T0 + 10_000],
    ])
    expect(done.twin.sensorHealth.power?.health).toBe('OK')
  })

  it('folds the batches into one version with one change entry, up to the last inbox batch', () => {
    expect(done.twin.version).toBe(1)
    expect(done.change?.version).toBe(1)
    expect(done.twin.inboxSeq).toBe(3)
    expect(done.twin.sensors.power?.value).toBe(120)
  })

  it('leaves the twin as folding the batches into one step does', () => {
    const folded = step(
      newTwin('cp-1'),
      (t) => waiting.reduce((applied, b) => applyBatch(applied, b.batch, model), t),
      model,
      T0 + 300_000,
    )
    const { alerts: _, ...stepped } = done
    const { alerts: none, ...plain } = folded
    expect(none).toEqual([])
    expect(stepped.twin).toEqual({ ...plain.twin, inboxSeq: 3 })
  })

  it('judges the device SILENT once the wall clock passes its limit after the last batch', () => {
    const late = stepInbox(newTwin('cp-1'), waiting, model, T0 + 10_000 + 301_000)
    expect(late.alerts.at(-1)).toMatchObject({ sensor: null, kind: 'SILENT', at: T0 + 311_000 })
  })
})
