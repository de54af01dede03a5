import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { TwinBatch } from '../../src/twins/batch.ts'
import {
  describeInbox,
  type InboxBatch,
  nextBatches,
  oldestArrival,
} from '../../src/twins/inbox.ts'
import { applyLive, emptyLive, type LiveState, withLive } from '../../src/twins/live.ts'
import type { DeviceModel } from '../../src/twins/model.ts'
import { type Reading, toReading } from '../../src/twins/reading.ts'
import { applyBatch, newTwin } from '../../src/twins/twin.ts'
import { heldHealth, isUrgent } from '../../src/twins/urgency.ts'

const T0 = Date.parse('2026-11-23T12:00:00Z')

const reading = (ts: number, values: Reading['values'], receivedAt = ts): Reading =>
  toReading({ ts, values }, receivedAt)

const batch = (readings: Reading[], extra: Partial<TwinBatch> = {}): TwinBatch => ({
  readings,
  statuses: [],
  messages: readings.length,
  lastTelemetryAt: readings.length ? Math.max(...readings.map((r) => r.receivedAt)) : null,
  ...extra,
})

const live = (...batches: TwinBatch[]): LiveState =>
  batches.reduce((state, b) => applyLive(state, b).live, emptyLive())

describe('live reported state', () => {
  it('takes the newest value by the twin rules: late and skewed readings never overwrite', () => {
    const state = live(
      batch([reading(T0 + 1000, { t: 2 })]),
      batch([reading(T0, { t: 1 }, T0 + 2000)]), // late: history only
      // A clock far ahead is ordered by its receive time, before the reading above.
      batch([reading(T0 + 3_600_000, { t: 9 }, T0 + 500)]),
    )
    expect(state.sensors.t).toMatchObject({ value: 2, deviceTime: T0 + 1000 })
    expect(state.lastSeenAt).toBe(T0 + 2000)
    expect(applyLive(state, batch([reading(T0 + 1000, { t: 2 })])).changed).toBe(false)
  })

  it('equals what the workflow applies, for any batches in any order', () => {
    const readings = fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 20 }),
        late: fc.integer({ min: 0, max: 5 }),
        v: fc.constantFrom(1, 2, 'a', true, null),
      }),
      { minLength: 1, maxLength: 5 },
    )
    fc.assert(
      fc.property(fc.array(readings, { maxLength: 6 }), (batches) => {
        const bs = batches.map((rs) =>
          batch(rs.map((r) => reading(T0 + r.at * 1000, { s: r.v }, T0 + (r.at + r.late) * 1000))),
        )
        const twin = bs.reduce((t, b) => applyBatch(t, b), newTwin('d'))
        const state = live(...bs)
        expect(state.sensors).toEqual(twin.sensors)
        expect(state.lastSeenAt).toBe(twin.lastSeenAt)
      }),
    )
  })

  it('shows live values over the workflow state, never older ones', () => {
    const twin = applyBatch(newTwin('d'), batch([reading(T0 + 5000, { a: 5, b: 1 })]))
    const state = live(batch([reading(T0 + 1000, { a: 1 })]), batch([reading(T0 + 6000, { b: 2 })]))
    const shown = withLive(twin, state)
    expect(shown.sensors.a?.value).toBe(5)
    expect(shown.sensors.b?.value).toBe(2)
    expect(shown.lastSeenAt).toBe(T0 + 6000)
  })
})

describe('isUrgent', () => {
  const model = {
    id: 'm',
    name: 'm',
    sensors: [
      { name: 'temp', kind: 'NUMBER', min: 0, max: 80 },
      {
        name: 'mode',
        kind: 'ENUM',
        flapping: { maxChanges: 3, windowSeconds: 60, quietSeconds: 10 },
      },
      { name: 'door', kind: 'BOOLEAN' },
    ],
    rules: [],
    silentAfterSeconds: 300,
    freshnessSeconds: 120,
  } as DeviceModel
  const before = live(batch([reading(T0, { temp: 20, mode: 'eco', door: false })]))
  const next = (values: Reading['values']) => batch([reading(T0 + 1000, values)])

  it('lets a continuous value moving within its range wait', () => {
    expect(isUrgent(before, next({ temp: 21 }), model)).toBe(false)
    expect(isUrgent(before, next({ temp: 20, mode: 'eco', door: false }), model)).toBe(false)
  })

  it('lets a discrete change wait that no verdict watches', () => {
    expect(isUrgent(before, next({ door: true }), model)).toBe(false)
    expect(isUrgent(before, next({ door: true }), null)).toBe(false)
    // A number where the model declares none is no range crossing either.
    expect(isUrgent(before, next({ temp: 'n/a' }), model)).toBe(false)
  })

  it("sends a flapping sensor's changes at once until the twin holds it FLAPPING", () => {
    expect(isUrgent(before, next({ mode: 'boost' }), model)).toBe(true)
    const flapping = { sensors: { mode: 'FLAPPING' as const } }
    expect(isUrgent(before, next({ mode: 'boost' }), model, flapping)).toBe(false)
  })

  it('sends at once what operators act on', () => {
    expect(isUrgent(null, next({ temp: 20 }), model)).toBe(true)
    expect(isUrgent(emptyLive(), next({ temp: 20 }), model)).toBe(true)
    expect(isUrgent(before, next({ temp: 95 }), model)).toBe(true)
    expect(isUrgent(before, next({ humidity: 40 }), model)).toBe(true)
    expect(
      isUrgent(before, batch([], { statuses: [{ online: false, receivedAt: T0 }] }), model),
    ).toBe(true)
    const ack = { id: 'c', status: 'succeeded' as const, receivedAt: T0 }
    expect(isUrgent(before, batch([], { acks: [ack] }), model)).toBe(true)
  })

  it('judges reading by reading: out of range and back within one batch is urgent', () => {
    const b = batch([reading(T0 + 1000, { temp: 90 }), reading(T0 + 2000, { temp: 21 })])
    expect(isUrgent(before, b, model)).toBe(true)
  })

  const rich = {
    ...model,
    sensors: [
      { name: 'temp', kind: 'NUMBER', min: 0, max: 80, stuckAfterSeconds: 60 },
      { name: 'power', kind: 'NUMBER', silentAfterSeconds: 30 },
      { name: 'cable', kind: 'ENUM' },
    ],
    rules: [{ sensor: 'power', requires: 'cable', equals: 'connected', withinSeconds: 10 }],
    aggregates: [{ sensor: 'temp', fn: 'AVG', windowSeconds: 60, above: 50 }],
    silentAfterSeconds: 120,
  } as DeviceModel
  const plugged = live(batch([reading(T0, { temp: 20, power: 5, cable: 'connected' })]))
  const at = (ms: number, values: Reading['values']) => batch([reading(T0 + ms, values)])

  it('sends at once what ends a silence the model calls SILENT', () => {
    expect(isUrgent(plugged, at(1000, { temp: 21 }), rich)).toBe(false)
    expect(isUrgent(plugged, at(121_000, { temp: 21 }), rich)).toBe(true)
    // One sensor's own silence.
    expect(isUrgent(plugged, at(31_000, { power: 6 }), rich)).toBe(true)
  })

  it('sends at once the reading that makes a number STUCK, and the one that frees it', () => {
    expect(isUrgent(plugged, at(30_000, { temp: 20 }), rich)).toBe(false)
    expect(isUrgent(plugged, at(60_000, { temp: 20 }), rich)).toBe(true)
    const stuckLive = live(
      batch([reading(T0, { temp: 20 })]),
      batch([reading(T0 + 70_000, { temp: 20 })]),
    )
    expect(isUrgent(stuckLive, at(71_000, { temp: 20 }), rich)).toBe(false)
    expect(isUrgent(stuckLive, at(72_000, { temp: 21 }), rich)).toBe(true)
  })

  it('sends at once a change a consistency rule may call implausible', () => {
    expect(isUrgent(plugged, at(1000, { power: 6 }), rich)).toBe(false)
    const unplugged = live(batch([reading(T0, { temp: 20, power: 5, cable: 'none' })]))
    expect(isUrgent(unplugged, at(1000, { power: 6 }), rich)).toBe(true)
  })

  it("sends at once values beyond an aggregate rule's bound, and changes that may clear a verdict", () => {
    expect(isUrgent(plugged, at(1000, { temp: 55 }), rich)).toBe(true)
    // The aggregate's statistic may come back within its bound.
    const aggregate = { sensors: { temp: 'OUT_OF_RANGE' as const } }
    expect(isUrgent(plugged, at(1000, { temp: 21 }), rich, aggregate)).toBe(true)
    expect(isUrgent(plugged, at(1000, { power: 6 }), rich, aggregate)).toBe(false)
    // A plausible change clears INCONSISTENT.
    const inconsistent = { sensors: { power: 'INCONSISTENT' as const } }
    expect(isUrgent(plugged, at(1000, { power: 6 }), rich, inconsistent)).toBe(true)
  })

  it('lets a number wait that stays beyond its range: only crossing back clears it', () => {
    const hot = live(batch([reading(T0, { temp: 90, mode: 'eco' })]))
    const outOfRange = { sensors: { temp: 'OUT_OF_RANGE' as const } }
    expect(isUrgent(hot, next({ temp: 95 }), model, outOfRange)).toBe(false)
    expect(isUrgent(hot, next({ temp: 60 }), model, outOfRange)).toBe(true)
  })
})

describe('heldHealth', () => {
  it('gives the health of the sensors neither OK nor UNKNOWN', () => {
    const sensorHealth = {
      a: { health: 'OK', reason: null },
      b: { health: 'UNKNOWN', reason: 'never reported' },
      c: { health: 'STUCK', reason: 'unchanged' },
    } as const
    expect(heldHealth({ sensorHealth })).toEqual({ c: 'STUCK' })
  })
})

describe('inbox', () => {
  const b = (seq: number, at = T0 + seq): InboxBatch => ({
    seq,
    batch: batch([reading(at, { n: seq })]),
  })

  it('applies the batches right after the last applied, in order, up to a gap', () => {
    expect(nextBatches(2, [b(4), b(3), b(2), b(1), b(6)]).map((x) => x.seq)).toEqual([3, 4])
    expect(nextBatches(0, [b(2)])).toEqual([])
  })

  it('tells operators how far behind the twin is', () => {
    expect(oldestArrival([b(1, T0 + 5), b(2, T0 + 1)])).toBe(T0 + 1)
    expect(describeInbox(41, 43, 12_340)).toBe(
      'inbox #41 applied 12.3 s after arrival · 2 batches waiting',
    )
    expect(describeInbox(7, 7, null)).toBe('inbox #7')
  })
})
