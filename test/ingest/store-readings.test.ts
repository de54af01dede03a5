import { asc, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { telemetry } from '../../src/db/schema.ts'
import { deviceBatches } from '../../src/ingest/batcher.ts'
import { storeReadings } from '../../src/ingest/store-readings.ts'
import type { Reading } from '../../src/twins/reading.ts'
import { DATABASES, useTestDatabase } from '../support/database.ts'

describe.each(DATABASES)('storeReadings (%s)', (kind) => {
  const database = useTestDatabase(kind)

  const flush = (deviceId: string, readings: Reading[]) =>
    deviceBatches(
      readings.map((reading) => ({
        topic: `devices/${deviceId}/telemetry`,
        payload: new Uint8Array(),
        receivedAt: reading.receivedAt,
        message: { ok: true, kind: 'telemetry', deviceId, readings: [reading] },
        puback: () => {},
      })),
    )

  it('stores every value with its exact times, nulls as nulls, and a re-sent reading once', async () => {
    const t = 1_763_920_000_123
    const readings: Reading[] = [
      {
        time: t,
        deviceTime: t,
        receivedAt: t + 7,
        seq: 1,
        values: { power: 11.5, plug: 'ccs', door: true, note: null },
        clockSkewed: false,
      },
      {
        time: t + 999,
        deviceTime: null,
        receivedAt: t + 999,
        seq: null,
        values: { power: 0 },
        clockSkewed: false,
      },
    ]
    expect(await storeReadings(database.db, flush('exact', readings))).toBe(5)
    await storeReadings(database.db, flush('exact', readings.slice(0, 1)))
    const rows = await database.db
      .select()
      .from(telemetry)
      .where(eq(telemetry.deviceId, 'exact'))
      .orderBy(asc(telemetry.time), asc(telemetry.sensor))
    expect(
      rows.map((r) => [
        r.sensor,
        r.value,
        r.time.getTime(),
        r.deviceTime?.getTime() ?? null,
        r.receivedAt.getTime(),
        r.seq,
      ]),
    ).toEqual([
      ['door', true, t, t, t + 7, 1],
      ['note', null, t, t, t + 7, 1],
      ['plug', 'ccs', t, t, t + 7, 1],
      ['power', 11.5, t, t, t + 7, 1],
      ['power', 0, t + 999, null, t + 999, null],
    ])
  })

  it('stores a flush of 20,000 values, more than one VALUES list could carry', async () => {
    const readings = Array.from({ length: 5_000 }, (_, i) => ({
      time: 1_763_920_000_000 + i,
      deviceTime: 1_763_920_000_000 + i,
      receivedAt: 1_763_920_000_000 + i,
      seq: i,
      values: { a: i, b: i / 2, c: `v${i}`, d: i % 2 === 0 },
      clockSkewed: false,
    }))
    expect(await storeReadings(database.db, flush('many', readings))).toBe(20_000)
    expect(await database.db.$count(telemetry, eq(telemetry.deviceId, 'many'))).toBe(20_000)
  })
})
