import { sql } from 'drizzle-orm'
import type { MqttClient } from 'mqtt'
import type { Db } from '../db/client.ts'
import { twins } from '../db/schema.ts'
import type { TwinEvent } from '../events/twin-events.ts'
import type { Topics } from '../topics.ts'
import type { TwinState } from '../twins/twin.ts'

export interface PersistTwinInput {
  twin: TwinState
  /** The twin's version moved since the last write: tell `twinChanged` subscribers. */
  changed: boolean
}

/**
 * Writes the twin's snapshot to Postgres and announces a change. A write never replaces a newer
 * snapshot (a retried or slow write carries an older revision).
 */
export const persistTwin =
  (deps: { db: Db; mqtt: MqttClient; topics: Topics }) =>
  async ({ twin, changed }: PersistTwinInput): Promise<void> => {
    const row = {
      deviceId: twin.deviceId,
      version: twin.version,
      revision: twin.revision,
      online: twin.online,
      lastSeenAt: twin.lastSeenAt === null ? null : new Date(twin.lastSeenAt),
      state: twin,
      updatedAt: new Date(),
    }
    await deps.db
      .insert(twins)
      .values(row)
      .onConflictDoUpdate({
        target: twins.deviceId,
        set: {
          version: row.version,
          revision: row.revision,
          online: row.online,
          lastSeenAt: row.lastSeenAt,
          state: row.state,
          updatedAt: row.updatedAt,
        },
        setWhere: sql`${twins.revision} < ${row.revision}`,
      })
    if (!changed) return
    const event: TwinEvent = {
      deviceId: twin.deviceId,
      version: twin.version,
      at: Date.now(),
      kind: 'reported',
      twin,
    }
    await deps.mqtt.publishAsync(deps.topics.twinEvents(twin.deviceId), JSON.stringify(event), {
      qos: 0,
    })
  }
