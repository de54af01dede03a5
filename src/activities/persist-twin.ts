import { sql } from 'drizzle-orm'
import type { MqttClient } from 'mqtt'
import type { Db } from '../db/client.ts'
import { twinEvents, twins } from '../db/schema.ts'
import type { Topics } from '../topics.ts'
import type { AlertChange } from '../twins/alerts.ts'
import type { TwinChange } from '../twins/change.ts'
import type { TwinState } from '../twins/twin.ts'
import { storeAlerts } from './store-alerts.ts'

export interface PersistTwinInput {
  twin: TwinState
  /** Change-log entries since the last write, oldest first: one per version. */
  changes: TwinChange[]
  /** Alert conditions that moved since the last write, oldest first. */
  alerts: AlertChange[]
}

/**
 * Writes the twin's snapshot, its new change-log entries and alerts to Postgres in one
 * transaction, then announces them to `twinChanged` and `alerts` subscribers. A write never replaces a newer snapshot (a retried or
 * slow write carries an older revision), and a retried entry is stored once.
 */
export const persistTwin =
  (deps: { db: Db; mqtt: MqttClient; topics: Topics }) =>
  async ({ twin, changes, alerts }: PersistTwinInput): Promise<void> => {
    const row = {
      deviceId: twin.deviceId,
      version: twin.version,
      revision: twin.revision,
      online: twin.online,
      health: twin.health,
      lastSeenAt: twin.lastSeenAt === null ? null : new Date(twin.lastSeenAt),
      state: twin,
      updatedAt: new Date(),
    }
    const { deviceId: _, ...update } = row
    const alertRows = await deps.db.transaction(async (tx) => {
      await tx
        .insert(twins)
        .values(row)
        .onConflictDoUpdate({
          target: twins.deviceId,
          set: update,
          setWhere: sql`${twins.revision} < ${row.revision}`,
        })
      if (changes.length > 0) {
        await tx
          .insert(twinEvents)
          .values(changes.map((c) => ({ ...c, at: new Date(c.at) })))
          .onConflictDoNothing()
      }
      return storeAlerts(tx, alerts)
    })
    const publish = (topic: string, payload: unknown) =>
      deps.mqtt.publishAsync(topic, JSON.stringify(payload), { qos: 0 })
    for (const change of changes) await publish(deps.topics.twinEvents(twin.deviceId), change)
    for (const alert of alertRows) await publish(deps.topics.alerts(twin.deviceId), alert)
  }
