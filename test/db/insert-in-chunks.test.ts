import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, openDatabase } from '../../src/db/client.ts'
import { insertInChunks } from '../../src/db/insert-in-chunks.ts'
import { telemetry } from '../../src/db/schema.ts'
import { createTestDatabase } from '../support/services.ts'

describe('bulk inserts', () => {
  let database: Database
  let drop: () => Promise<void>
  beforeAll(async () => {
    const created = await createTestDatabase()
    drop = created.drop
    database = await openDatabase({ url: created.url, dataDir: '/nonexistent' })
  })
  afterAll(async () => {
    await database?.close()
    await drop?.()
  })

  it('stores more rows than one statement may carry, and a re-sent row once', async () => {
    const at = new Date()
    // 20,000 rows of 7 columns: three statements' worth of bind parameters.
    const rows = Array.from({ length: 20_000 }, (_, i) => ({
      deviceId: `d-${i % 3000}`,
      sensor: 'power',
      value: i,
      time: at,
      deviceTime: at,
      receivedAt: at,
      seq: i,
    }))
    await insertInChunks(database.db, telemetry, rows)
    await insertInChunks(database.db, telemetry, rows.slice(0, 10))
    expect(await database.db.$count(telemetry)).toBe(20_000)
  })
})
