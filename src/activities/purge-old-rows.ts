import { Context } from '@temporalio/activity'
import type { Db } from '../db/client.ts'
import { purgeOlderThan } from '../db/purge.ts'
import type { RetainedTable } from '../db/retained-tables.ts'

/**
 * Retention's activity: deletes one table's rows older than `before` (epoch ms) in bounded
 * batches, heartbeating the running total after each, so a long purge shows its progress in the
 * Temporal UI and a stuck one is retried.
 */
export const purgeOldRows =
  (deps: { db: Db }) =>
  async (input: { table: RetainedTable; before: number }): Promise<number> =>
    purgeOlderThan(deps.db, input.table, new Date(input.before), {
      onBatch: (deleted) => Context.current().heartbeat(deleted),
    })
