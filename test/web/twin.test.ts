import { describe, expect, it } from 'vitest'
import { applyTwinEvent, type LiveTwin, lastChange } from '../../web/src/twin.ts'

const sensor = (value: unknown, health = 'OK', changedAt = '2026-01-01T00:00:00.000Z') => ({
  name: 'temperature',
  value,
  deviceTime: null,
  receivedAt: changedAt,
  changedAt,
  health,
  healthReason: health === 'OK' ? null : 'above max 80',
})

const twin = (version: number, value: unknown, health = 'OK'): LiveTwin => ({
  version,
  online: true,
  health,
  healthReason: null,
  lastSeenAt: '2026-01-01T00:00:00.000Z',
  reported: { temperature: value },
  sensors: [sensor(value, health)],
})

describe('applyTwinEvent', () => {
  it('takes a version event whole', () => {
    const next = applyTwinEvent(twin(3, 20), {
      version: 4,
      live: false,
      twin: twin(4, 90, 'OUT_OF_RANGE'),
    })
    expect(next).toEqual(twin(4, 90, 'OUT_OF_RANGE'))
  })

  it('takes only the live fields of a live event older than the version shown', () => {
    const shown = twin(5, 90, 'OUT_OF_RANGE')
    const next = applyTwinEvent(shown, { version: 4, live: true, twin: twin(4, 95) })
    expect(next.version).toBe(5)
    expect(next.health).toBe('OUT_OF_RANGE')
    expect(next.reported).toEqual({ temperature: 95 })
    expect(next.sensors[0]).toMatchObject({ value: 95, health: 'OUT_OF_RANGE' })
  })

  it('takes a live event of the current version whole', () => {
    const next = applyTwinEvent(twin(5, 20), { version: 5, live: true, twin: twin(5, 21) })
    expect(next.sensors[0]?.value).toBe(21)
  })
})

describe('lastChange', () => {
  it('is the newest changedAt of any sensor, or null without sensors', () => {
    const t = twin(1, 20)
    t.sensors.push({ ...sensor(1, 'OK', '2026-01-02T00:00:00.000Z'), name: 'door' })
    expect(lastChange(t)).toBe('2026-01-02T00:00:00.000Z')
    expect(lastChange({ ...t, sensors: [] })).toBeNull()
  })
})
