import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compactReadings, type TwinBatch } from '../../src/twins/batch.ts'
import { type Reading, toReading } from '../../src/twins/reading.ts'
import { applyBatch, newTwin } from '../../src/twins/twin.ts'

const T0 = Date.parse('2026-11-23T12:00:00Z')
const r = (ts: number, values: Reading['values']) => toReading({ ts, values }, ts)
const asBatch = (readings: Reading[]): TwinBatch => ({
  readings,
  statuses: [],
  messages: readings.length,
  lastTelemetryAt: T0,
})

describe('compactReadings', () => {
  it('keeps the first and last reading of each run of equal values', () => {
    const compacted = compactReadings([
      r(T0, { door: false }),
      r(T0 + 1, { door: false }),
      r(T0 + 2, { door: false }),
      r(T0 + 3, { door: true }),
      r(T0 + 4, { door: true }),
    ])
    expect(compacted.map((x) => [x.time, x.values.door])).toEqual([
      [T0, false],
      [T0 + 2, false],
      [T0 + 3, true],
      [T0 + 4, true],
    ])
  })

  it('compacts each sensor on its own', () => {
    const compacted = compactReadings([
      r(T0, { a: 1, b: 'x' }),
      r(T0 + 1, { a: 1, b: 'y' }),
      r(T0 + 2, { a: 1, b: 'z' }),
    ])
    expect(compacted.map((x) => x.values)).toEqual([{ a: 1, b: 'x' }, { b: 'y' }, { a: 1, b: 'z' }])
  })

  const value = fc.oneof(
    fc.constantFrom(0, 1, 2),
    fc.boolean(),
    fc.constantFrom('on', 'off'),
    fc.constant(null),
  )
  const readingsArb = fc.array(
    fc.record({
      offset: fc.integer({ min: 0, max: 50 }),
      values: fc.dictionary(fc.constantFrom('a', 'b', 'c'), value, { minKeys: 1 }),
    }),
    { maxLength: 40 },
  )
  type Arb = { offset: number; values: Reading['values'] }[]
  const readingsAt = (xs: Arb, base: number) => xs.map((x) => r(base + x.offset, x.values))
  const both = (first: Arb, second: Arb, secondBase: number) => {
    const before = applyBatch(newTwin('d'), asBatch(readingsAt(first, T0)))
    const readings = readingsAt(second, secondBase)
    return {
      full: applyBatch(before, asBatch(readings)),
      compacted: applyBatch(before, asBatch(compactReadings(readings))),
    }
  }

  // The point of compaction: for data newer than the twin, the twin cannot tell the difference.
  it('leaves the twin exactly as the full batch would', () => {
    fc.assert(
      fc.property(readingsArb, readingsArb, (first, second) => {
        const { full, compacted } = both(first, second, T0 + 51)
        expect(compacted.sensors).toEqual(full.sensors)
        expect(compacted.version).toBe(full.version)
      }),
    )
  })

  // A run that straddles the twin's newest time loses the readings that would have pinned the
  // exact change time: changedAt may come later, by at most that run, and nothing else differs.
  it('keeps values and times exact when a batch overlaps the twin', () => {
    fc.assert(
      fc.property(readingsArb, readingsArb, (first, second) => {
        const { full, compacted } = both(first, second, T0 + 25)
        expect(compacted.version).toBe(full.version)
        for (const [name, sensor] of Object.entries(full.sensors)) {
          const other = compacted.sensors[name]
          expect(other).toMatchObject({ value: sensor.value, time: sensor.time })
          expect(other?.changedAt).toBeGreaterThanOrEqual(sensor.changedAt)
          expect(other?.changedAt).toBeLessThanOrEqual(sensor.time)
        }
      }),
    )
  })
})
