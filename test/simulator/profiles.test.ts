import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createProfile, type Model, RANGES, type Values } from '../../src/simulator/profiles.ts'
import { roundTo, seededRng } from '../../src/simulator/random.ts'

const T0 = Date.parse('2026-11-23T12:00:00Z')

/** `steps` readings of one device, `stepMs` (or a random gap up to it) apart. */
function run(
  model: Model,
  seed: number,
  steps: number,
  stepMs: number,
  opts: { flapping?: boolean; outOfRange?: boolean; jitter?: boolean; tempo?: number } = {},
) {
  const rng = seededRng(seed)
  const profile = createProfile(model, { rng: seededRng(seed + 1), ...opts })
  const readings: { at: number; values: Values }[] = []
  let at = T0
  for (let i = 0; i < steps; i++) {
    at += opts.jitter ? Math.ceil(rng() * stepMs) : stepMs
    readings.push({ at, values: profile.next(at) })
  }
  return readings
}

const decimals = (n: number) => (String(n).split('.')[1] ?? '').length

describe('charge-point profile', () => {
  it('keeps every value in its physical range and rounded, at any pace', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 100, max: 120_000 }), (seed, stepMs) => {
        for (const { values } of run('charge-point', seed, 500, stepMs, { jitter: true })) {
          expect(Object.keys(values).sort()).toEqual(['cable', 'door', 'power', 'temperature'])
          const power = values.power as number
          const temperature = values.temperature as number
          expect(power).toBeGreaterThanOrEqual(RANGES['charge-point'].power[0])
          expect(power).toBeLessThanOrEqual(RANGES['charge-point'].power[1])
          expect(Number.isInteger(power)).toBe(true)
          expect(temperature).toBeGreaterThanOrEqual(RANGES['charge-point'].temperature[0])
          expect(temperature).toBeLessThanOrEqual(RANGES['charge-point'].temperature[1])
          expect(decimals(temperature)).toBeLessThanOrEqual(1)
          expect(['connected', 'disconnected']).toContain(values.cable)
          expect(typeof values.door).toBe('boolean')
        }
      }),
      { numRuns: 50 },
    )
  })

  it('opens the door before the cable changes and closes it only after', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 200, max: 60_000 }), (seed, stepMs) => {
        const readings = run('charge-point', seed, 2000, stepMs, { jitter: true })
        let changes = 0
        for (let i = 1; i < readings.length; i++) {
          const before = readings[i - 1]?.values
          const now = readings[i]?.values
          if (before?.cable === now?.cable) continue
          changes++
          // The reading before the change already said the door was open, and it still is.
          expect(before?.door).toBe(true)
          expect(now?.door).toBe(true)
        }
        // Two thousand readings at ≥ 200 ms span at least 6.7 minutes: some sessions happen.
        if (stepMs >= 1000) expect(changes).toBeGreaterThan(0)
      }),
      { numRuns: 50 },
    )
  })

  it('changes its cable no more than the flapping limit allows (6 in 60 s)', () => {
    for (let seed = 0; seed < 20; seed++) {
      const changes: number[] = []
      const readings = run('charge-point', seed, 20_000, 1000)
      for (let i = 1; i < readings.length; i++) {
        if (readings[i]?.values.cable !== readings[i - 1]?.values.cable) {
          changes.push(readings[i]?.at as number)
        }
      }
      expect(changes.length).toBeGreaterThan(10)
      for (let i = 6; i < changes.length; i++) {
        expect((changes[i] as number) - (changes[i - 6] as number)).toBeGreaterThan(60_000)
      }
    }
  })

  it('draws ~7-11 kW while plugged in and about nothing while unplugged', () => {
    for (let seed = 0; seed < 20; seed++) {
      const readings = run('charge-point', seed, 10_000, 1000)
      let pluggedSince: number | null = null
      for (const { at, values } of readings) {
        const power = values.power as number
        if (values.cable === 'disconnected') {
          pluggedSince = null
          expect(power).toBeLessThanOrEqual(5)
          continue
        }
        pluggedSince ??= at
        // Ramped up after a minute, then it stays around the session's 7-11 kW.
        if (at - pluggedSince > 60_000) {
          expect(power).toBeGreaterThan(5_000)
          expect(power).toBeLessThan(13_000)
        }
      }
    }
  })

  it('does not read 0 W for ten minutes straight while unplugged (not STUCK)', () => {
    const readings = run('charge-point', 7, 50_000, 5000)
    let since = readings[0]?.at ?? T0
    let last: unknown
    for (const { at, values } of readings) {
      if (values.power !== last) since = at
      last = values.power
      expect(at - since).toBeLessThan(600_000)
    }
  })

  it('toggles its cable on every reading when flapping, door held open', () => {
    const readings = run('charge-point', 3, 40, 250, { flapping: true })
    for (let i = 2; i < readings.length; i++) {
      expect(readings[i]?.values.cable).not.toBe(readings[i - 1]?.values.cable)
      expect(readings[i]?.values.door).toBe(true)
    }
  })

  it.each(['charge-point', 'sensor'] as const)(
    '%s: reads its temperature above its range while out of range',
    (model) => {
      const [, max] = RANGES[model].temperature
      for (const { values } of run(model, 4, 50, 5000, { outOfRange: true })) {
        expect(values.temperature).toBeGreaterThanOrEqual(max + 5)
        expect(values.temperature).toBeLessThanOrEqual(max + 15)
      }
    },
  )

  it('replays the same readings for the same seed', () => {
    expect(run('charge-point', 42, 300, 1000)).toEqual(run('charge-point', 42, 300, 1000))
    expect(run('sensor', 42, 300, 1000)).toEqual(run('sensor', 42, 300, 1000))
  })
})

describe('sensor profile', () => {
  it('keeps temperature, humidity and pressure in range, drifting slowly', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 100, max: 600_000 }), (seed, stepMs) => {
        const readings = run('sensor', seed, 500, stepMs, { jitter: true })
        for (const { values } of readings) {
          expect(Object.keys(values).sort()).toEqual(['humidity', 'pressure', 'temperature'])
          for (const [name, [min, max]] of Object.entries(RANGES.sensor)) {
            const value = values[name] as number
            expect(value).toBeGreaterThanOrEqual(min)
            expect(value).toBeLessThanOrEqual(max)
            expect(value).toBe(roundTo(value, 0.1))
          }
        }
      }),
      { numRuns: 50 },
    )
    // Second to second, the weather does not jump.
    const readings = run('sensor', 1, 1000, 1000)
    for (let i = 1; i < readings.length; i++) {
      const a = readings[i - 1]?.values as Record<string, number>
      const b = readings[i]?.values as Record<string, number>
      expect(Math.abs((a.temperature ?? 0) - (b.temperature ?? 0))).toBeLessThan(0.5)
      expect(Math.abs((a.pressure ?? 0) - (b.pressure ?? 0))).toBeLessThan(0.5)
    }
  })

  it('grows a toggling contact when flapping', () => {
    const readings = run('sensor', 5, 10, 250, { flapping: true })
    const contacts = readings.map((r) => r.values.contact)
    expect(contacts).toEqual([true, false, true, false, true, false, true, false, true, false])
  })
})
