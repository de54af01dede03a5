import type { PgTable } from 'drizzle-orm/pg-core'
import type { Db } from './client.ts'

/**
 * Postgres takes at most 65,535 bind parameters in one statement, and postgres.js refuses a
 * statement that fills all of them (a flush of 9,362 sensor values failed, forever, until this
 * kept a margin).
 */
const MAX_PARAMETERS = 60_000

/**
 * Inserts many rows in as few multi-row statements as the parameter limit allows. A re-sent row
 * that hits a unique index is skipped (telemetry re-delivered after a crash is stored once).
 */
export async function insertInChunks<T extends PgTable>(
  db: Db,
  table: T,
  rows: readonly T['$inferInsert'][],
): Promise<void> {
  if (rows.length === 0) return
  const perRow = Object.keys(rows[0] as object).length
  const chunk = Math.max(1, Math.floor(MAX_PARAMETERS / perRow))
  for (let i = 0; i < rows.length; i += chunk) {
    await db
      .insert(table)
      .values(rows.slice(i, i + chunk) as T['$inferInsert'][])
      .onConflictDoNothing()
  }
}
