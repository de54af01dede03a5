import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  emptyTrack,
  evaluateHealth,
  flapping,
  implausibleChange,
  outOfRange,
  recordChange,
  type SensorTrack,
  silentSensor,
  stuck,
  TRACK_LIMIT,
} from '../../src/twins/health/index.ts'
import { type DeviceModel, parseDeviceModel } from '../../src/twins/model.ts'
import type { SensorState } from '../../src/twins/state.ts'

const T0 = Date.parse('2026-11-23T12:00:00Z')
const s = (n: number) => n * 1000
const spec = { maxChanges: 6, windowSeconds: 60, quietSeconds: 30 }
const trackOf = (times: number[], base: Partial<SensorTrack> = {}): SensorTrack => ({
  ...emptyTrack(),
  changes: times,
  ...base,
})
const sensor = (over: Partial<SensorState> = {}): SensorState => ({
  value: 1,
  time: T0,
  deviceTime: T0,
  receivedAt: T0,
  changedAt: T0,
  ...over,
})
const model = (input: object): DeviceModel => {
  const parsed = parseDeviceModel({ id: 'm', name: 'M', sensors: [], ...input })
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.model
}

describe('flapping', () => {
  const burst = (n: number, every = s(1)) => Array.from({ length: n }, (_, i) => T0 + i * every)

  it('is OK at the limit and FLAPPING one change above it', () => {
    expect(flapping(spec, trackOf(burst(6)), T0 + s(6)).report.health).toBe('OK')
    const verdict = flapping(spec, trackOf(burst(7)), T0 + s(6))
    expect(verdict.report).toEqual({ health: 'FLAPPING', reason: '7 changes in 60 s (limit 6)' })
    expect(verdict.track.flappingSince).toBe(T0 + s(6))
    expect(verdict.quietUntil).toBe(T0 + s(6) + s(30))
  })

  it('counts only changes inside the window', () => {
    // Seven changes, but spread over more than 60 s: the first is outside the last one's window.
    const spread = [T0, ...burst(6, s(1)).map((t) => t + s(60))]
    expect(flapping(spec, trackOf(spread), T0 + s(66)).report.health).toBe('OK')
  })

  it('stays FLAPPING until a full quiet period passes (hysteresis)', () => {
    const flappingTrack = flapping(spec, trackOf(burst(7)), T0 + s(6)).track
    const last = T0 + s(6)
    const almost = flapping(spec, flappingTrack, last + s(30) - 1)
    expect(almost.report.health).toBe('FLAPPING')
    expect(almost.report.reason).toContain('quiet for 30 s of 30 s')
    const quiet = flapping(spec, flappingTrack, last + s(30))
    expect(quiet.report.health).toBe('OK')
    expect(quiet.track).toMatchObject({ flappingSince: null, settledAt: last })
    // The old burst is still inside the window, but it cannot start a new episode…
    expect(flapping(spec, quiet.track, last + s(31)).report.health).toBe('OK')
    // …while one more change can.
    const again = flapping(
      spec,
      { ...quiet.track, changes: [...quiet.track.changes, last + s(35)] },
      last + s(35),
    )
    expect(again.report.health).toBe('FLAPPING')
  })

  it('never reports OK within the quiet period of a flapping sensor', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: s(200) }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: s(100) }),
        (offsets, after) => {
          const times = offsets.map((o) => T0 + o).sort((a, b) => a - b)
          const last = times.at(-1) as number
          const verdict = flapping(spec, trackOf(times, { flappingSince: T0 }), last + after)
          if (after < s(spec.quietSeconds)) expect(verdict.report.health).toBe('FLAPPING')
          else expect(verdict.report.health).toBe('OK')
        },
      ),
    )
  })
})

describe('recordChange', () => {
  const m = model({
    sensors: [
      { name: 'cable', kind: 'ENUM', flapping: spec },
      { name: 'door', kind: 'BOOLEAN' },
    ],
    rules: [{ sensor: 'cable', requires: 'door', equals: true, withinSeconds: 30 }],
  })

  it('keeps changes sorted and bounded by the window and the hard limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: s(1000) }), { maxLength: 300 }), (offsets) => {
        let tracks = {}
        for (const t of offsets.map((o) => T0 + o).sort((a, b) => a - b)) {
          tracks = recordChange(tracks, 'cable', t, String(t), m)
        }
        const changes = (tracks as Record<string, SensorTrack>).cable?.changes ?? []
        expect(changes).toEqual([...changes].sort((a, b) => a - b))
        expect(changes.length).toBeLessThanOrEqual(TRACK_LIMIT)
        if (changes.length > 0)
          expect((changes.at(-1) as number) - (changes[0] as number)).toBeLessThan(s(60))
      }),
    )
  })

  it('judges a change plausible only after the required value within the window', () => {
    // The cable was known before (its first value is never judged).
    let tracks = recordChange({}, 'cable', T0 - s(100), 'unplugged', m)
    tracks = recordChange(tracks, 'door', T0, true, m)
    tracks = recordChange(tracks, 'door', T0 + s(5), false, m)
    // The door was open 25 s before: plausible.
    expect(recordChange(tracks, 'cable', T0 + s(30), 'connected', m).cable?.inconsistent).toBeNull()
    // Open last at T0, closed since T0+5 s: at T0+36 s the window starts at T0+6 s, after it closed.
    const late = recordChange(tracks, 'cable', T0 + s(36), 'connected', m)
    expect(late.cable?.inconsistent).toMatch(
      /cable changed at 12:00:36 but door was not true within 30 s before/,
    )
    // The next plausible change clears it.
    const open = recordChange(late, 'door', T0 + s(40), true, m)
    expect(recordChange(open, 'cable', T0 + s(41), 'unplugged', m).cable?.inconsistent).toBeNull()
  })

  it('does not judge the first value of a sensor, only its changes', () => {
    const closed = recordChange({}, 'door', T0, false, m)
    const first = recordChange(closed, 'cable', T0 + s(1), 'connected', m)
    expect(first.cable?.inconsistent).toBeNull()
    expect(recordChange(first, 'cable', T0 + s(2), 'unplugged', m).cable?.inconsistent).toContain(
      'door',
    )
  })

  it('counts the value in force when the window opens', () => {
    const rule = { sensor: 'cable', requires: 'door', equals: true, withinSeconds: 30 }
    const door = { ...emptyTrack(), values: [{ time: T0 - s(3600), value: true }] }
    expect(implausibleChange(rule, T0, door)).toBeNull()
    expect(implausibleChange(rule, T0, undefined)).toContain('door was not true')
  })
})

describe('value checks', () => {
  const power = {
    name: 'power',
    kind: 'NUMBER' as const,
    unit: 'W',
    min: 0,
    max: 22_000,
    stuckAfterSeconds: 600,
  }

  it('finds values out of range, on both sides and not at the edges', () => {
    expect(outOfRange(power, 22_000).health).toBe('OK')
    expect(outOfRange(power, 0).health).toBe('OK')
    expect(outOfRange(power, 22_001)).toEqual({
      health: 'OUT_OF_RANGE',
      reason: 'value 22001 above max 22000 W',
    })
    expect(outOfRange(power, -1)).toEqual({
      health: 'OUT_OF_RANGE',
      reason: 'value -1 below min 0 W',
    })
    expect(outOfRange(power, 'n/a').health).toBe('OK')
  })

  it('calls a number stuck only once it stayed unchanged for the limit while reported', () => {
    expect(stuck(power, sensor({ changedAt: T0, time: T0 + s(600) - 1 })).health).toBe('OK')
    expect(stuck(power, sensor({ value: 3.5, changedAt: T0, time: T0 + s(600) }))).toEqual({
      health: 'STUCK',
      reason: 'unchanged at 3.5 for 600 s while reporting (limit 600 s)',
    })
  })

  it('calls a sensor silent after its own limit, and says when it will be', () => {
    const door = { name: 'door', kind: 'BOOLEAN' as const, silentAfterSeconds: 60 }
    expect(silentSensor(door, sensor(), T0 + s(59))).toEqual({
      report: { health: 'OK', reason: null },
      silentAt: T0 + s(60),
    })
    expect(silentSensor(door, sensor(), T0 + s(61)).report).toEqual({
      health: 'SILENT',
      reason: 'not reported for 61 s (limit 60 s)',
    })
  })
})

describe('evaluateHealth', () => {
  const m = model({
    sensors: [
      { name: 'cable', kind: 'ENUM', flapping: spec },
      { name: 'power', kind: 'NUMBER', min: 0, max: 100 },
      { name: 'door', kind: 'BOOLEAN' },
    ],
    silentAfterSeconds: 300,
  })
  const clock = { wallNow: T0 + s(10), deviceNow: T0 + s(10) }

  it('takes the worst sensor, names it, and marks undeclared-but-missing sensors UNKNOWN only', () => {
    const verdict = evaluateHealth(
      {
        sensors: { power: sensor({ value: 150 }), cable: sensor({ value: 'x' }), extra: sensor() },
        tracks: {},
        lastSeenAt: T0,
      },
      m,
      clock,
    )
    expect(verdict.health).toBe('OUT_OF_RANGE')
    expect(verdict.reason).toBe('power: value 150 above max 100')
    expect(verdict.sensors).toMatchObject({
      door: { health: 'UNKNOWN' },
      extra: { health: 'OK' },
      cable: { health: 'OK' },
    })
    expect(verdict.nextCheckAt).toBe(T0 + s(300))
  })

  it('is SILENT when the device sent nothing for the model limit, UNKNOWN when never seen', () => {
    const quiet = evaluateHealth({ sensors: {}, tracks: {}, lastSeenAt: T0 }, m, {
      wallNow: T0 + s(300),
      deviceNow: T0 + s(300),
    })
    expect(quiet).toMatchObject({
      health: 'SILENT',
      reason: 'no message for 300 s (limit 300 s)',
      nextCheckAt: null,
    })
    expect(evaluateHealth({ sensors: {}, tracks: {}, lastSeenAt: null }, m, clock).health).toBe(
      'UNKNOWN',
    )
  })

  it('judges nothing without a model', () => {
    const verdict = evaluateHealth(
      { sensors: { power: sensor({ value: 1e9 }) }, tracks: {}, lastSeenAt: T0 },
      null,
      clock,
    )
    expect(verdict).toMatchObject({ health: 'OK', reason: null, nextCheckAt: null })
  })

  it('wakes the twin when a flapping quiet period ends, in wall time', () => {
    const times = Array.from({ length: 7 }, (_, i) => T0 + i * 100)
    // The device clock runs 5 s behind the wall clock.
    const verdict = evaluateHealth(
      {
        sensors: { cable: sensor({ value: 'x', time: T0 + 600 }) },
        tracks: { cable: trackOf(times) },
        lastSeenAt: T0 + 5600,
      },
      m,
      { wallNow: T0 + 5600, deviceNow: T0 + 600 },
    )
    expect(verdict.health).toBe('FLAPPING')
    expect(verdict.nextCheckAt).toBe(T0 + 600 + s(30) + 5000)
  })
})

describe('parseDeviceModel', () => {
  it('fills defaults and says precisely what is wrong', () => {
    expect(model({})).toMatchObject({ rules: [], silentAfterSeconds: 300, freshnessSeconds: 120 })
    const bad = (input: object) => parseDeviceModel({ id: 'm', name: 'M', sensors: [], ...input })
    expect(bad({ sensors: [{ name: 'p', kind: 'NUMBER', min: 5, max: 1 }] })).toEqual({
      ok: false,
      message: 'sensors.0.max: min 5 is above max 1',
    })
    expect(bad({ sensors: [{ name: 'd', kind: 'BOOLEAN', min: 0 }] })).toMatchObject({
      message: expect.stringContaining('NUMBER sensors only'),
    })
    expect(bad({ sensors: [{ name: 'p', kind: 'NUMBER', flapping: spec }] })).toMatchObject({
      message: expect.stringContaining('discrete'),
    })
    expect(
      bad({
        sensors: [
          { name: 'a', kind: 'NUMBER' },
          { name: 'a', kind: 'NUMBER' },
        ],
      }),
    ).toMatchObject({ message: expect.stringContaining('declared twice') })
    expect(
      bad({ rules: [{ sensor: 'x', requires: 'y', equals: true, withinSeconds: 1 }] }),
    ).toMatchObject({
      message: 'rules.0.sensor: "x" is not a sensor of this model',
    })
  })
})
