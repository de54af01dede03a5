import { describe, expect, it } from 'vitest'
import type { TwinBatch } from '../../src/twins/batch.ts'
import { deviceModelSchema } from '../../src/twins/model.ts'
import { toReading } from '../../src/twins/reading.ts'
import { goesSilent } from '../../src/twins/silence.ts'
import { step } from '../../src/twins/step.ts'
import { applyBatch, newTwin } from '../../src/twins/twin.ts'
import { chargePoint } from '../support/models.ts'

const T0 = Date.parse('2026-11-30T09:00:00Z')
const model = deviceModelSchema.parse(chargePoint('cp', { silentAfterSeconds: 3 }))
const first = toReading({ ts: T0, seq: 1, values: { door: false, power: 100 } }, T0)
const batch: TwinBatch = { readings: [first], statuses: [], messages: 1, lastTelemetryAt: T0 }
const seen = step(newTwin('cp-1'), (t) => applyBatch(t, batch, model), model, T0).twin

describe('goesSilent', () => {
  it('is true only once the silence limit has passed since the twin last saw the device', () => {
    expect(goesSilent(seen, model, T0 + 2_999)).toBe(false)
    expect(goesSilent(seen, model, T0 + 3_000)).toBe(true)
  })

  it('is false for a twin already SILENT, and for a twin with no model to judge by', () => {
    const silent = step(seen, (t) => t, model, T0 + 4_000).twin
    expect(silent.health).toBe('SILENT')
    expect(goesSilent(silent, model, T0 + 10_000)).toBe(false)
    expect(goesSilent(seen, null, T0 + 3_600_000)).toBe(false)
  })
})
