import { describe, expect, it } from 'vitest'
import { STEPS_PER_WINDOW, windowKey } from '../../src/twins/aggregates.ts'
import { alertChanges } from '../../src/twins/alerts.ts'
import { compactReadings, type TwinBatch } from '../../src/twins/batch.ts'
import { type DeviceModel, parseDeviceModel } from '../../src/twins/model.ts'
import { type Reading, toReading } from '../../src/twins/reading.ts'
import type { TwinState } from '../../src/twins/state.ts'
import { step } from '../../src/twins/step.ts'
import { applyBatch, newTwin, restoreTwin } from '../../src/twins/twin.ts'

const T0 = Date.parse('2026-11-23T12:00:00Z')
const s = (n: number) => T0 + n * 1000

const model = (rule: object, sensors: object[] = [{ name: 'temp', kind: 'NUMBER' }]) => {
  const parsed = parseDeviceModel({ id: 'm', name: 'M', sensors, aggregates: [rule] })
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.model
}
const avgAbove80 = (over: object = {}) =>
  model({ sensor: 'temp', fn: 'AVG', windowSeconds: 60, above: 80, ...over })

const readings = (points: [number, Reading['values'][string]][]) =>
  points.map(([at, temp]) => toReading({ ts: s(at), values: { temp } }, s(at)))

const batch = (rs: Reading[]): TwinBatch => ({
  readings: rs,
  statuses: [],
  messages: rs.length,
  lastTelemetryAt: Math.max(...rs.map((r) => r.receivedAt)),
})

/** Applies readings as the workflow does, one batch each, noting the alerts they move. */
function feed(m: DeviceModel, points: [number, Reading['values'][string]][], from?: TwinState) {
  let twin = from ?? newTwin('d1')
  const alerts: ReturnType<typeof alertChanges> = []
  for (const reading of readings(points)) {
    const before = twin
    twin = step(twin, (t) => applyBatch(t, batch([reading]), m), m, reading.receivedAt).twin
    alerts.push(...alertChanges(before, twin, reading.receivedAt))
  }
  return { twin, alerts, temp: twin.sensorHealth.temp }
}

describe('aggregate rules', () => {
  it('weighs each value by how long the sensor held it, and raises OUT_OF_RANGE', () => {
    // 70 for 10 s, then 90 for 50 s: (700 + 4500) / 60 = 86.67 over the minute.
    const { temp, alerts } = feed(avgAbove80(), [
      [0, 70],
      [10, 90],
      [60, 90],
    ])
    expect(temp).toEqual({ health: 'OUT_OF_RANGE', reason: '1 min avg 86.67 above 80' })
    expect(alerts).toEqual([
      {
        deviceId: 'd1',
        sensor: 'temp',
        kind: 'OUT_OF_RANGE',
        message: '1 min avg 86.67 above 80',
        at: s(60),
      },
    ])
  })

  it('is not fooled by how often a value is reported', () => {
    // Ten readings of 100 within one second, then 20 for 59 s: the time-weighted avg is 21.33.
    const burst = Array.from({ length: 10 }, (_, i): [number, number] => [i / 10, 100])
    const { temp } = feed(avgAbove80({ above: 21 }), [...burst, [1, 20], [60, 20]])
    expect(temp?.reason).toBe('1 min avg 21.33 above 21')
  })

  it('clears when back in range', () => {
    const raised = feed(avgAbove80(), [
      [0, 90],
      [60, 70],
    ])
    expect(raised.temp?.health).toBe('OUT_OF_RANGE')
    // [30, 90]: 90 for 30 s and 70 for 30 s is 80, not above 80.
    const cleared = feed(avgAbove80(), [[90, 70]], raised.twin)
    expect(cleared.temp).toEqual({ health: 'OK', reason: null })
    expect(cleared.alerts).toEqual([expect.objectContaining({ sensor: 'temp', kind: null })])
  })

  it('clears only once past the bound by the hysteresis', () => {
    const m = avgAbove80({ hysteresis: 5 })
    const raised = feed(m, [
      [0, 90],
      [60, 70],
    ])
    // avg 80: below the bound, not yet 5 below it.
    const held = feed(m, [[90, 70]], raised.twin)
    expect(held.temp).toEqual({
      health: 'OUT_OF_RANGE',
      reason: '1 min avg 80 above 80 (clears at 75)',
    })
    expect(held.alerts).toEqual([])
    // [45, 105]: 90 for 15 s, 70 for 45 s = 75, at the clearing point: clear.
    const cleared = feed(m, [[105, 70]], held.twin)
    expect(cleared.temp?.health).toBe('OK')
    expect(cleared.alerts).toEqual([expect.objectContaining({ kind: null })])
    // Without hysteresis the same values would have cleared at avg 80; and a rule that is not
    // raised rises at its bound, not at the hysteresis.
    expect(feed(m, [[0, 79]]).temp?.health).toBe('OK')
  })

  it('forgets values once they leave the window', () => {
    const m = model({ sensor: 'temp', fn: 'MAX', windowSeconds: 60, above: 100 })
    const spike = feed(m, [
      [0, 150],
      [1, 20],
      [30, 20],
    ])
    expect(spike.temp?.reason).toBe('1 min max 150 above 100')
    // At 61 s the window opens at 1 s: the spike held [0, 1) and is gone.
    const later = feed(m, [[61, 20]], spike.twin)
    expect(later.temp?.health).toBe('OK')
    expect(later.alerts).toEqual([expect.objectContaining({ kind: null })])
  })

  it('judges below, min, and leaves non-numeric values out', () => {
    const m = model({ sensor: 'temp', fn: 'MIN', windowSeconds: 600, below: 5 })
    expect(
      feed(m, [
        [0, 10],
        [60, 'sensor error'],
        [120, 4],
      ]).temp,
    ).toEqual({ health: 'OUT_OF_RANGE', reason: '10 min min 4 below 5' })
    // Only a string held in the window: nothing to judge, OK.
    expect(feed(m, [[0, 'sensor error']]).temp?.health).toBe('OK')
  })

  it('judges compacted batches as it judges every reading', () => {
    const m = avgAbove80({ above: 50 })
    const points: [number, number][] = [
      [0, 40],
      [5, 40],
      [10, 40],
      [20, 90],
      [25, 90],
      [30, 90],
      [35, 60],
      [60, 60],
    ]
    const all = feed(m, points).temp
    const rs = compactReadings(readings(points))
    expect(rs.length).toBeLessThan(points.length)
    const compacted = step(newTwin('d1'), (t) => applyBatch(t, batch(rs), m), m, s(60)).twin
      .sensorHealth.temp
    expect(compacted).toEqual(all)
    // 40 for 20 s, 90 for 15 s, 60 for 25 s.
    expect(all?.reason).toBe('1 min avg 60.83 above 50')
  })

  it('keeps a bounded window however fast the sensor changes', () => {
    const points = Array.from({ length: 1000 }, (_, i): [number, number] => [i / 4, i % 7])
    const { twin } = feed(avgAbove80(), points)
    const window = twin.aggregates[windowKey({ sensor: 'temp', windowSeconds: 60 })]
    expect(window?.buckets.length).toBeLessThanOrEqual(STEPS_PER_WINDOW + 1)
  })

  it('survives continue-as-new as JSON, and twins from before it start empty', () => {
    const raised = feed(avgAbove80({ hysteresis: 5 }), [
      [0, 90],
      [60, 70],
    ])
    const carried = JSON.parse(JSON.stringify(raised.twin)) as TwinState
    const held = feed(avgAbove80({ hysteresis: 5 }), [[90, 70]], carried)
    expect(held.temp?.health).toBe('OUT_OF_RANGE')

    const { aggregates: _, ...old } = raised.twin
    const restored = restoreTwin('d1', old as TwinState)
    expect(restored.aggregates).toEqual({})
    // A model stored before aggregate rules existed has none.
    const { aggregates: __, ...oldModel } = avgAbove80()
    expect(feed(oldModel, [[120, 95]], restored).temp?.health).toBe('OK')
  })

  it.each([
    [
      { sensor: 'door', fn: 'AVG', windowSeconds: 60, above: 1 },
      'aggregates.0.sensor: "door" is a BOOLEAN sensor; aggregate rules need a NUMBER sensor',
    ],
    [
      { sensor: 'nope', fn: 'AVG', windowSeconds: 60, above: 1 },
      'aggregates.0.sensor: "nope" is not a sensor of this model',
    ],
    [
      { sensor: 'temp', fn: 'AVG', windowSeconds: 60 },
      'aggregates.0.above: give above, below or both',
    ],
    [
      { sensor: 'temp', fn: 'AVG', windowSeconds: 60, above: 5, below: 5 },
      'aggregates.0.below: below 5 must be less than above 5',
    ],
    [
      { sensor: 'temp', fn: 'AVG', windowSeconds: 60, above: 5, hysteresis: -1 },
      'aggregates.0.hysteresis: hysteresis cannot be negative',
    ],
    [
      { sensor: 'temp', fn: 'AVG', windowSeconds: 90_000, above: 5 },
      'aggregates.0.windowSeconds: windowSeconds is at most 86400 (a day)',
    ],
    [{ sensor: 'temp', fn: 'SUM', windowSeconds: 60, above: 5 }, 'aggregates.0.fn'],
  ])('refuses the rule %j', (rule, message) => {
    const parsed = parseDeviceModel({
      id: 'm',
      name: 'M',
      sensors: [
        { name: 'temp', kind: 'NUMBER' },
        { name: 'door', kind: 'BOOLEAN' },
      ],
      aggregates: [rule],
    })
    expect(parsed.ok).toBe(false)
    expect(parsed.ok === false && parsed.message).toContain(message)
  })
})
