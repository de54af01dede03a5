import { proxyActivities } from '@temporalio/workflow'
import type { Activities } from '../activities/index.ts'
import { RETAINED_TABLES, type RetainedTable, type RetentionPolicy } from '../db/retained-tables.ts'

const { purgeOldRows } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  // Each batch heartbeats: a purge that stops making progress is retried well before the hour.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})

/**
 * One retention run, started by the retention Schedule: each table's rows older than its limit
 * are deleted, table after table. Returns how many rows each lost (shown in the Temporal UI).
 */
export async function retentionWorkflow(
  policy: RetentionPolicy,
): Promise<Partial<Record<RetainedTable, number>>> {
  const now = Date.now()
  const deleted: Partial<Record<RetainedTable, number>> = {}
  for (const table of RETAINED_TABLES) {
    const keepMs = policy[table]
    if (keepMs === undefined) continue
    deleted[table] = await purgeOldRows({ table, before: now - keepMs })
  }
  return deleted
}
