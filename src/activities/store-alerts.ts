import { and, eq, isNull, ne } from 'drizzle-orm'
import { lockChangeFeed, nextSeq } from '../db/change-feed.ts'
import type { Db } from '../db/client.ts'
import { alerts } from '../db/schema.ts'
import type { AlertChange } from '../twins/alerts.ts'

export type AlertRow = typeof alerts.$inferSelect

/**
 * Clears the active alerts a change ends and raises the one it starts. Returns the rows that
 * changed, for the `alerts` subscription, each with its new place in the change feed. Safe to
 * repeat: an alert is raised once, active or already cleared by the same changes.
 */
export async function storeAlerts(db: Db, changes: readonly AlertChange[]): Promise<AlertRow[]> {
  const touched: AlertRow[] = []
  if (changes.length > 0) await lockChangeFeed(db)
  for (const change of changes) {
    const sensor = change.sensor ?? ''
    const at = new Date(change.at)
    touched.push(
      ...(await db
        .update(alerts)
        .set({ clearedAt: at, changeSeq: nextSeq('alerts', 'change_seq') })
        .where(
          and(
            eq(alerts.deviceId, change.deviceId),
            eq(alerts.sensor, sensor),
            isNull(alerts.clearedAt),
            change.kind === null ? undefined : ne(alerts.kind, change.kind),
          ),
        )
        .returning()),
    )
    if (change.kind === null) continue
    touched.push(
      ...(await db
        .insert(alerts)
        .values({
          deviceId: change.deviceId,
          sensor,
          kind: change.kind,
          message: change.message ?? change.kind,
          raisedAt: at,
        })
        .onConflictDoNothing()
        .returning()),
    )
  }
  return touched
}
