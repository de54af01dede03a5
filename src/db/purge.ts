import { and, lt, notInArray, sql } from 'drizzle-orm'
import { OPEN_COMMAND_STATUSES } from '../twins/commands.ts'
import type { Db } from './client.ts'
import type { RetainedTable } from './retained-tables.ts'
import { commandEvents, commands, rejectedMessages, telemetry, twinEvents } from './schema.ts'

/** Rows per statement: each is its own short transaction, holding locks on these rows only. */
export const PURGE_BATCH = 5000

/**
 * Which rows of each table are old: by the time they are about. A command's trail goes as a
 * whole, and only once the command finished before the cutoff: an open command keeps its trail
 * (the twin writes it again while the command is under way).
 */
const oldRows = (table: RetainedTable, before: Date, limit: number) => {
  switch (table) {
    case 'telemetry':
      return sql`select ctid from ${telemetry} where ${lt(telemetry.time, before)} limit ${limit}`
    case 'twin_events':
      return sql`select ctid from ${twinEvents} where ${lt(twinEvents.at, before)} limit ${limit}`
    case 'rejected_messages':
      return sql`select ctid from ${rejectedMessages} where ${lt(rejectedMessages.receivedAt, before)} limit ${limit}`
    case 'command_events': {
      const finished = sql`select ${commands.id} from ${commands} where ${and(
        notInArray(commands.status, [...OPEN_COMMAND_STATUSES]),
        lt(commands.updatedAt, before),
      )}`
      return sql`select ctid from ${commandEvents} where ${commandEvents.commandId} in (${finished}) limit ${limit}`
    }
  }
}

const tables = {
  telemetry,
  twin_events: twinEvents,
  rejected_messages: rejectedMessages,
  command_events: commandEvents,
}

/**
 * Deletes `table`'s rows older than `before`, `batch` rows per statement until none is left, and
 * tells `onBatch` the running total after each (the activity heartbeats with it). Returns how
 * many it deleted. Safe to run again, or at once from two places.
 */
export async function purgeOlderThan(
  db: Db,
  table: RetainedTable,
  before: Date,
  opts: { batch?: number; onBatch?: (deleted: number) => void } = {},
): Promise<number> {
  const batch = opts.batch ?? PURGE_BATCH
  let deleted = 0
  for (;;) {
    const gone = await db
      .delete(tables[table])
      .where(sql`ctid in (${oldRows(table, before, batch)})`)
      .returning({ one: sql`1` })
    deleted += gone.length
    opts.onBatch?.(deleted)
    if (gone.length < batch) return deleted
  }
}
