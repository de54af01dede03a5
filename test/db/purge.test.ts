import { describe, expect, it } from 'vitest'
import { purgeOlderThan } from '../../src/db/purge.ts'
import { RETAINED_TABLES } from '../../src/db/retained-tables.ts'
import { countRows, DAY, insertAgedRows } from '../support/aged-rows.ts'
import { DATABASES, useTestDatabase } from '../support/database.ts'

describe.each(DATABASES)('purgeOlderThan (%s)', (kind) => {
  const database = useTestDatabase(kind)

  it('deletes rows older than the cutoff in bounded batches, and keeps the rest', async () => {
    const db = database.db
    await insertAgedRows(db, 'a', 40, { n: 7 })
    await insertAgedRows(db, 'a', 1, { n: 2, firstVersion: 100 })
    // A command still under way keeps its trail, however old.
    await insertAgedRows(db, 'b', 40, { n: 1, status: 'SENT' })
    const before = new Date(Date.now() - 30 * DAY)

    const deleted: Record<string, number> = {}
    const totals: number[] = []
    for (const table of RETAINED_TABLES) {
      deleted[table] = await purgeOlderThan(db, table, before, {
        batch: 3,
        onBatch: (n) => table === 'telemetry' && totals.push(n),
      })
    }
    expect(deleted).toEqual({
      telemetry: 8,
      twin_events: 8,
      rejected_messages: 8,
      command_events: 3,
    })
    // 8 rows in batches of 3: full, full, then the last 2 (a short batch ends it).
    expect(totals).toEqual([3, 6, 8])
    expect(await countRows(db, 'a')).toEqual({
      telemetry: 2,
      twin_events: 2,
      rejected_messages: 2,
      command_events: 3,
    })
    expect(await countRows(db, 'b')).toEqual({
      telemetry: 0,
      twin_events: 0,
      rejected_messages: 0,
      command_events: 3,
    })
    // Nothing left to delete: a second run deletes nothing.
    expect(await purgeOlderThan(db, 'telemetry', before)).toBe(0)
  })
})
