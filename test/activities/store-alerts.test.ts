import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { storeAlerts } from '../../src/activities/store-alerts.ts'
import { alerts } from '../../src/db/schema.ts'
import type { AlertChange } from '../../src/twins/alerts.ts'
import { DATABASES, useTestDatabase } from '../support/database.ts'

const T0 = Date.parse('2026-12-04T09:00:00Z')

describe.each(DATABASES)('storeAlerts (%s)', (kind) => {
  const database = useTestDatabase(kind)

  it('stores an alert raised and cleared by one write once, however often the write is retried', async () => {
    const change = (kind: AlertChange['kind'], at: number): AlertChange => ({
      deviceId: 'cp-1',
      sensor: 'power',
      kind,
      message: kind,
      at,
    })
    // A condition that came and went between two deliveries: both moves in one write.
    const write = [change('OUT_OF_RANGE', T0), change(null, T0 + 5_000)]
    const first = await database.db.transaction((tx) => storeAlerts(tx, write))
    const retried = await database.db.transaction((tx) => storeAlerts(tx, write))

    expect(first.map((a) => [a.kind, a.clearedAt?.getTime() ?? null])).toEqual([
      ['OUT_OF_RANGE', null],
      ['OUT_OF_RANGE', T0 + 5_000],
    ])
    expect(retried).toEqual([])
    const stored = await database.db.select().from(alerts).where(eq(alerts.deviceId, 'cp-1'))
    expect(stored.map((a) => [a.raisedAt.getTime(), a.clearedAt?.getTime()])).toEqual([
      [T0, T0 + 5_000],
    ])
  })
})
