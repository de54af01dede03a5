import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devices, telemetry } from '../../src/db/schema.ts'
import { MODES, startTestStack, type TestStack } from '../support/stack.ts'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const at = (m: number, s: number, ms = 0) => new Date(T0 + m * 60_000 + s * 1000 + ms)

const STATS = /* GraphQL */ `
  query ($id: ID!, $sensor: String!, $from: DateTime!, $to: DateTime!, $bucket: String!) {
    device(id: $id) {
      telemetryStats(sensor: $sensor, from: $from, to: $to, bucket: $bucket) {
        start min max avg count last
      }
    }
  }
`

describe.each(MODES)('Device.telemetryStats (%s)', (mode) => {
  let stack: TestStack
  let id: string
  beforeAll(async () => {
    stack = await startTestStack(mode, { roles: ['api'] })
    id = stack.deviceId('stats')
    const other = stack.deviceId('other')
    const db = stack.database.db
    await db.insert(devices).values([{ id }, { id: other }])
    const reading = (time: Date, value: unknown, sensor = 'temperature', deviceId = id) => ({
      deviceId,
      sensor,
      value: value as number,
      time,
      deviceTime: time,
      // Received in another order than their device times: last goes by device time.
      receivedAt: new Date(T0 + 3_600_000 - time.getTime() + T0),
      seq: null,
    })
    await db.insert(telemetry).values([
      reading(at(0, 59, 999), 30),
      reading(at(0, 30), 20),
      reading(at(0, 0), 10), // exactly at from: inside
      reading(at(-1, 59, 999), -999), // before from
      reading(at(1, 20), 'high'),
      reading(at(1, 10), 5),
      reading(at(2, 5), null),
      reading(at(2, 6), 'off'),
      reading(at(4, 59, 999), 7),
      reading(at(5, 0), 999), // exactly at to: outside
      reading(at(0, 10), 1000, 'pressure'), // another sensor
      reading(at(0, 10), 1000, 'temperature', other), // another device
    ])
  })
  afterAll(() => stack?.close())

  const stats = (vars: { from: Date; to: Date; bucket: string; sensor?: string }) =>
    stack.graphql(STATS, { id, sensor: 'temperature', ...vars })

  it('aggregates each bucket of [from, to) and leaves empty buckets out', async () => {
    const result = await stats({ from: at(0, 0), to: at(5, 0), bucket: '1m' })
    expect(result.errors).toBeUndefined()
    expect(result.data?.device.telemetryStats).toEqual([
      { start: at(0, 0).toISOString(), min: 10, max: 30, avg: 20, count: 3, last: 30 },
      // Non-numeric values count and can be last; min, max and avg are over numbers only.
      { start: at(1, 0).toISOString(), min: 5, max: 5, avg: 5, count: 2, last: 'high' },
      { start: at(2, 0).toISOString(), min: null, max: null, avg: null, count: 2, last: 'off' },
      { start: at(4, 0).toISOString(), min: 7, max: 7, avg: 7, count: 1, last: 7 },
    ])
  })

  it('counts buckets from `from`, not from round times', async () => {
    const result = await stats({ from: at(0, 30), to: at(1, 30), bucket: '60s' })
    expect(result.errors).toBeUndefined()
    expect(result.data?.device.telemetryStats).toEqual([
      { start: at(0, 30).toISOString(), min: 5, max: 30, avg: 55 / 3, count: 4, last: 'high' },
    ])
  })

  it('returns no buckets for a sensor without readings in the range', async () => {
    const result = await stats({ from: at(0, 0), to: at(5, 0), bucket: '1h', sensor: 'humidity' })
    expect(result.errors).toBeUndefined()
    expect(result.data?.device.telemetryStats).toEqual([])
  })

  it.each([
    [{ from: at(0, 0), to: at(0, 0), bucket: '1m' }, 'from must be before to'],
    [{ from: at(1, 0), to: at(0, 0), bucket: '1m' }, 'from must be before to'],
    [{ from: at(0, 0), to: at(1, 0), bucket: '500ms' }, 'bucket "500ms" must be whole seconds'],
    [{ from: at(0, 0), to: at(1, 0), bucket: '90' }, 'bucket "90" is not a duration'],
    [{ from: at(0, 0), to: at(1, 0), bucket: 'PT5M' }, 'bucket "PT5M" is not a duration'],
    [
      { from: at(0, 0), to: at(24 * 60, 0), bucket: '1s' },
      'asks for 86,400 buckets; at most 1,000: widen bucket to 5m or shorten the range',
    ],
    [
      { from: at(0, 0), to: at(0, 1001), bucket: '1s' },
      'asks for 1,001 buckets; at most 1,000: widen bucket to 5s or shorten the range',
    ],
  ])('refuses %j with BAD_USER_INPUT', async (vars, message) => {
    const result = await stats(vars)
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(result.errors?.[0]?.message).toContain(message)
  })

  it('allows exactly 1,000 buckets', async () => {
    const result = await stats({ from: at(0, 0), to: at(0, 1000), bucket: '1s' })
    expect(result.errors).toBeUndefined()
    // Nine readings in [0 s, 1000 s), each in a second of its own.
    expect(result.data?.device.telemetryStats.map((b: { count: number }) => b.count)).toEqual(
      Array(9).fill(1),
    )
  })
})
