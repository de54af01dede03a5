import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { TwinBatch } from '../../src/twins/batch.ts'
import { type Reading, toReading } from '../../src/twins/reading.ts'
import type { TwinState } from '../../src/twins/state.ts'
import { step } from '../../src/twins/step.ts'
import {
  applyBatch as applyOnly,
  newTwin,
  publishedTwin,
  RECENT_KEYS_LIMIT,
  reported,
} from '../../src/twins/twin.ts'

const T0 = Date.parse('2026-11-23T12:00:00Z')

const reading = (ts: number, values: Reading['values'], seq?: number, receivedAt = ts): Reading =>
  toReading({ ts, seq, values }, receivedAt)

const batch = (readings: Reading[], statuses: TwinBatch['statuses'] = []): TwinBatch => ({
  readings,
  statuses,
  messages: readings.length + statuses.length,
  lastTelemetryAt: readings.length ? Math.max(...readings.map((r) => r.receivedAt)) : null,
})

/** A batch applied as the workflow applies it: through `step`, which also sets the version. */
const applyBatch = (twin: TwinState, b: TwinBatch) =>
  step(twin, (t) => applyOnly(t, b), null, Math.max(T0, ...b.readings.map((r) => r.receivedAt)))
    .twin

describe('applyBatch', () => {
  it('keeps the last-known value of each sensor with its times', () => {
    const twin = applyBatch(newTwin('d1'), batch([reading(T0, { temperature: 21.4, door: false })]))
    expect(reported(twin)).toEqual({ temperature: 21.4, door: false })
    expect(twin.sensors.temperature).toMatchObject({
      time: T0,
      deviceTime: T0,
      receivedAt: T0,
      changedAt: T0,
    })
    expect(twin.version).toBe(1)
    expect(twin.lastSeenAt).toBe(T0)
  })

  it('moves changedAt only when the value changes, not when it is reported again', () => {
    let twin = applyBatch(newTwin('d1'), batch([reading(T0, { temperature: 20 })]))
    twin = applyBatch(twin, batch([reading(T0 + 1000, { temperature: 20 })]))
    expect(twin.sensors.temperature).toMatchObject({ time: T0 + 1000, changedAt: T0 })
    expect(twin.version).toBe(1)
    twin = applyBatch(twin, batch([reading(T0 + 2000, { temperature: 21 })]))
    expect(twin.sensors.temperature).toMatchObject({ value: 21, changedAt: T0 + 2000 })
    expect(twin.version).toBe(2)
  })

  it('never lets a late reading overwrite a newer value', () => {
    let twin = applyBatch(newTwin('d1'), batch([reading(T0 + 5000, { temperature: 25 })]))
    twin = applyBatch(twin, batch([reading(T0, { temperature: 10 }, undefined, T0 + 6000)]))
    expect(twin.sensors.temperature?.value).toBe(25)
    expect(twin.version).toBe(1)
    // …while a sensor the twin has no newer value for takes it.
    twin = applyBatch(twin, batch([reading(T0, { pressure: 1013 }, undefined, T0 + 7000)]))
    expect(twin.sensors.pressure?.value).toBe(1013)
  })

  it('orders readings within one batch by device time', () => {
    const twin = applyBatch(
      newTwin('d1'),
      batch([
        reading(T0 + 2000, { cable: 'connected' }),
        reading(T0 + 1000, { cable: 'unplugged' }),
      ]),
    )
    expect(twin.sensors.cable).toMatchObject({ value: 'connected', changedAt: T0 + 2000 })
  })

  it('ignores a re-delivered message (same seq and ts)', () => {
    let twin = applyBatch(newTwin('d1'), batch([reading(T0, { temperature: 20 }, 7)]))
    twin = applyBatch(twin, batch([reading(T0 + 1000, { temperature: 21 }, 8)]))
    const again = applyBatch(twin, batch([reading(T0, { temperature: 20 }, 7)]))
    expect(again.sensors).toEqual(twin.sensors)
    expect(again.version).toBe(twin.version)
  })

  it('remembers a bounded number of re-delivery keys', () => {
    const many = Array.from({ length: RECENT_KEYS_LIMIT + 10 }, (_, i) =>
      reading(T0 + i, { n: i }, i),
    )
    const twin = applyBatch(newTwin('d1'), batch(many))
    expect(twin.recentKeys).toHaveLength(RECENT_KEYS_LIMIT)
    expect(twin.recentKeys.at(-1)).toBe(`${RECENT_KEYS_LIMIT + 9}@${T0 + RECENT_KEYS_LIMIT + 9}`)
  })

  it('flags a device clock far ahead and orders by receive time instead', () => {
    const hourAhead = T0 + 3_600_000
    let twin = applyBatch(
      newTwin('d1'),
      batch([reading(hourAhead, { temperature: 30 }, undefined, T0)]),
    )
    expect(twin.clockSkew).toEqual({ deviceTime: hourAhead, receivedAt: T0 })
    expect(twin.sensors.temperature).toMatchObject({ time: T0, deviceTime: hourAhead })
    // A later trusted reading wins although its device time is before the skewed one.
    twin = applyBatch(twin, batch([reading(T0 + 1000, { temperature: 31 })]))
    expect(twin.sensors.temperature?.value).toBe(31)
    expect(twin.clockSkew).toBeNull()
  })

  it('takes the online flag from status reports in receive order', () => {
    let twin = applyBatch(newTwin('d1'), batch([], [{ online: true, receivedAt: T0 }]))
    expect(twin).toMatchObject({ online: true, version: 1, lastSeenAt: T0 })
    twin = applyBatch(
      twin,
      batch(
        [],
        [
          { online: false, receivedAt: T0 + 2000 },
          { online: true, receivedAt: T0 + 1000 },
        ],
      ),
    )
    // The last will is the broker speaking for the device: it does not count as seeing it.
    expect(twin).toMatchObject({ online: false, version: 2, lastSeenAt: T0 + 1000 })
  })

  it('keeps the version when a batch changes nothing a reader sees', () => {
    let twin = applyBatch(newTwin('d1'), batch([reading(T0, { a: 1 })]))
    twin = applyBatch(twin, batch([reading(T0 + 1000, { a: 1 })]))
    expect(twin.version).toBe(1)
    expect(twin.sensors.a?.time).toBe(T0 + 1000)
  })
})

describe('publishedTwin', () => {
  it('leaves out the re-delivery keys and nothing else', () => {
    const twin = applyBatch(
      newTwin('d'),
      batch([reading(T0, { t: 1 }, 1), reading(T0 + 1, { t: 2 }, 2)]),
    )
    expect(twin.recentKeys).toHaveLength(2)
    expect(publishedTwin(twin)).toEqual({ ...twin, recentKeys: [] })
    expect(twin.recentKeys).toHaveLength(2)
  })
})

describe('message semantics (properties)', () => {
  const value = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.constantFrom('on', 'off'))
  const readingsArb = fc.array(
    fc.record({
      offset: fc.integer({ min: 0, max: 100_000 }),
      seq: fc.nat(1000),
      values: fc.dictionary(fc.constantFrom('a', 'b', 'c'), value, { minKeys: 1 }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  const toReadings = (xs: { offset: number; seq: number; values: Reading['values'] }[]) =>
    // Distinct device times: two different values at one instant have no order to keep.
    xs.map((x, i) => reading(T0 + x.offset * 100 + i, x.values, x.seq))

  it('a re-delivered batch changes nothing', () => {
    fc.assert(
      fc.property(readingsArb, (xs) => {
        const once = applyBatch(newTwin('d'), batch(toReadings(xs)))
        const twice = applyBatch(once, batch(toReadings(xs)))
        expect(twice.sensors).toEqual(once.sensors)
        expect(twice.version).toBe(once.version)
      }),
    )
  })

  it('readings older than what the twin holds never change its values', () => {
    fc.assert(
      fc.property(readingsArb, readingsArb, (newer, older) => {
        const twin = applyBatch(
          newTwin('d'),
          batch(
            toReadings(newer).map((r) => ({ ...r, time: r.time + 1e9, deviceTime: r.time + 1e9 })),
          ),
        )
        const after = applyBatch(twin, batch(toReadings(older)))
        for (const [name, sensor] of Object.entries(after.sensors)) {
          if (twin.sensors[name]) expect(sensor).toEqual(twin.sensors[name])
        }
      }),
    )
  })

  it('the order readings arrive in within a batch does not matter', () => {
    fc.assert(
      fc.property(
        readingsArb.chain((xs) =>
          fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length })),
        ),
        ([xs, shuffled]) => {
          const a = applyBatch(newTwin('d'), batch(toReadings(xs)))
          const byTime = new Map(toReadings(xs).map((r, i) => [xs[i], r]))
          const b = applyBatch(newTwin('d'), batch(shuffled.map((x) => byTime.get(x) as Reading)))
          expect(b.sensors).toEqual(a.sensors)
        },
      ),
    )
  })
})
