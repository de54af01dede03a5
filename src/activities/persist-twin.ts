import { and, eq, lte, sql } from 'drizzle-orm'
import type { MqttClient } from 'mqtt'
import type { Db } from '../db/client.ts'
import { twinEvents, twinInbox, twinLive, twins } from '../db/schema.ts'
import { type Announcements, announce } from '../events/announcements.ts'
import { countAlerts, countCommandOutcomes, type TwinMetrics } from '../metrics/twins.ts'
import type { AlertChange } from '../twins/alerts.ts'
import type { TwinChange } from '../twins/change.ts'
import type { TwinState } from '../twins/state.ts'
import { heldHealth } from '../twins/urgency.ts'
import { storeCommands, storeReservations } from './records.ts'
import { storeAlerts } from './store-alerts.ts'
import type { TwinRecords } from './store-records.ts'
import { writeOrNormalise } from './write-refused.ts'

export interface PersistTwinInput extends TwinRecords {
  twin: TwinState
  /** Change-log entries since the last write, oldest first: one per version. */
  changes: TwinChange[]
  /** Alert conditions that moved since the last write, oldest first. */
  alerts: AlertChange[]
}

/**
 * Writes the twin's snapshot, its new change-log entries, alerts, commands and reservations to
 * Postgres in one transaction, then announces them to `twinChanged`, `alerts` and
 * `commandUpdated` subscribers. A write never replaces a newer snapshot (a retried or slow write
 * carries an older revision), and a retried entry is stored once.
 */
type Deps = { db: Db; mqtt: MqttClient; announcements: Announcements; metrics: TwinMetrics }

export const persistTwin =
  (deps: Deps) =>
  async (input: PersistTwinInput): Promise<PersistTwinResult> => {
    const refused = await writeOrNormalise(input, (written) => write(deps, written))
    return { refused }
  }

export interface PersistTwinResult {
  /** Why Postgres refused the write as it was, when it was stored normalised instead. */
  refused: string | null
}

async function write(
  deps: Deps,
  { twin, changes, alerts, ...records }: PersistTwinInput,
): Promise<void> {
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
  const written = await deps.db.transaction(async (tx) => {
    // Independent of each other, so sent together: postgres.js pipelines a transaction's
    // statements that are not awaited one by one, and a write is one round trip instead of four.
    const [versions] = await allSettledOrThrow([
      changes.length === 0
        ? Promise.resolve([])
        : tx
            .insert(twinEvents)
            .values(changes.map((c) => ({ ...c, at: new Date(c.at) })))
            .onConflictDoNothing()
            .returning({ version: twinEvents.version }),
      tx
        .insert(twins)
        .values(row)
        .onConflictDoUpdate({
          target: twins.deviceId,
          set: update,
          setWhere: sql`${twins.revision} < ${row.revision}`,
        }),
      ...(twin.inboxSeq > 0 ? markApplied(tx, twin) : []),
    ])
    const commands = await storeCommands(tx, records.commands)
    await storeReservations(tx, records.reservations)
    return { versions, commands, alertRows: await storeAlerts(tx, alerts) }
  })
  // Counted once committed, and only what this write added: a retried write counts nothing twice.
  const { versions, commands, alertRows } = written
  deps.metrics.updates.inc(versions.length)
  countCommandOutcomes(deps.metrics, commands.added)
  countAlerts(deps.metrics, alertRows)
  // Announced without waiting: the twin's workflow task is held open until this activity
  // returns, and mqtt.js holds a publish while the broker is away.
  const { announcements: a, mqtt } = deps
  announce(mqtt, a.twinChange, twin.deviceId, changes)
  announce(mqtt, a.alert, twin.deviceId, alertRows)
  announce(mqtt, a.commandUpdate, twin.deviceId, commands.fed)
}

/**
 * The inbox batches up to the twin's are applied and written with this snapshot: ingest may tell
 * the twin of the next ones, the lag is counted from the oldest batch still waiting, and ingest
 * judges what comes next against the health this twin holds its sensors in (see urgency.ts).
 */
function markApplied(tx: Db, twin: TwinState): Promise<unknown>[] {
  const { deviceId, inboxSeq: seq } = twin
  // The update reads only the batches above `seq`, which the delete sent with it leaves alone.
  return [
    tx.execute(sql`
      update ${twinLive} set
        sensor_health = ${JSON.stringify(heldHealth(twin))}::jsonb,
        applied_seq = greatest(applied_seq, ${seq}),
        pending_since = case when applied_seq < ${seq} then (
          select min(received_at) from ${twinInbox} where device_id = ${deviceId} and seq > ${seq}
        ) else pending_since end
      where device_id = ${deviceId}`),
    tx.delete(twinInbox).where(and(eq(twinInbox.deviceId, deviceId), lte(twinInbox.seq, seq))),
  ]
}

/**
 * Waits for every statement sent together, then fails with the first error: a failed one
 * aborts the transaction, and it is rolled back only once nothing of it is still on the wire.
 */
async function allSettledOrThrow<T extends readonly unknown[]>(
  statements: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements)
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>
  }
}
