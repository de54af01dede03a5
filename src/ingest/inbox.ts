import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { resultRows, sqlArray } from '../db/rows.ts'
import { twinInbox, twinLive } from '../db/schema.ts'
import { applyLive, type LiveEvent, type LiveState } from '../twins/live.ts'
import type { DeviceModel } from '../twins/model.ts'
import { type AppliedHealth, isUrgent } from '../twins/urgency.ts'
import { type DeviceBatch, toTwinBatch } from './batcher.ts'

/** One device's part of a stored flush: its inbox number and its live state after it. */
export interface Stored {
  deviceId: string
  seq: number
  live: LiveState
  /** Whether the live state changed (a live `twinChanged` event is due), and which values. */
  changed: boolean
  changes: LiveEvent['changes']
  urgent: boolean
}

/** Rows as both drivers return them: int8 may come as a string, timestamps as Dates. */
interface LiveRow {
  device_id: string
  sensors: LiveState['sensors']
  last_seen_at: string | Date | null
  inbox_seq: string | number
  sensor_health: AppliedHealth['sensors'] | null
}

/**
 * In the flush's transaction: for each device, applies its batch to the live reported state and
 * adds it to the inbox under the next number. The live rows are locked in id order, so two
 * ingests storing the same device wait for each other (never deadlock), and numbers are
 * committed in order: a twin that has read up to n never misses a batch numbered below n.
 */
export async function storeInbox(
  tx: Db,
  batches: readonly DeviceBatch[],
  modelOf: (deviceId: string) => DeviceModel | null,
): Promise<Stored[]> {
  if (batches.length === 0) return []
  const sorted = [...batches].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))
  const ids = sorted.map((b) => b.deviceId)
  await tx.execute(sql`
    insert into ${twinLive} (device_id) select unnest(${sqlArray(ids, 'text')})
    on conflict do nothing`)
  const rows = await tx.execute(sql`
    select device_id, sensors, last_seen_at, inbox_seq, sensor_health from ${twinLive}
    where device_id = any(${sqlArray(ids, 'text')}) order by device_id for update`)
  const before = new Map(resultRows<LiveRow>(rows).map((r) => [r.device_id, r]))

  const stored: Stored[] = []
  const batchJson: string[] = []
  const receivedAt: number[] = []
  for (const batch of sorted) {
    const row = before.get(batch.deviceId)
    const live: LiveState = {
      sensors: row?.sensors ?? {},
      lastSeenAt: row?.last_seen_at == null ? null : new Date(row.last_seen_at).getTime(),
    }
    const twinBatch = toTwinBatch(batch)
    const next = applyLive(live, twinBatch)
    stored.push({
      deviceId: batch.deviceId,
      seq: Number(row?.inbox_seq ?? 0) + 1,
      live: next.live,
      changed: next.changed,
      changes: next.changes,
      urgent: isUrgent(live, twinBatch, modelOf(batch.deviceId), {
        sensors: row?.sensor_health ?? {},
      }),
    })
    batchJson.push(JSON.stringify(twinBatch))
    receivedAt.push(batch.received.reduce((t, r) => Math.min(t, r.receivedAt), Infinity))
  }
  await tx.execute(sql`
    update ${twinLive} as l set
      sensors = u.sensors::jsonb,
      last_seen_at = to_timestamp(u.last_seen_at / 1000.0),
      inbox_seq = u.seq,
      urgent_seq = greatest(l.urgent_seq, u.urgent_seq),
      pending_since = coalesce(l.pending_since, to_timestamp(u.received_at / 1000.0))
    from unnest(
      ${sqlArray(ids, 'text')}, ${sqlArray(
        stored.map((s) => JSON.stringify(s.live.sensors)),
        'text',
      )}, ${sqlArray(
        stored.map((s) => s.live.lastSeenAt),
        'float8',
      )}, ${sqlArray(
        stored.map((s) => s.seq),
        'int8',
      )}, ${sqlArray(
        // postgres.js sends a boolean array as one boolean: the urgent batch's number, or 0.
        stored.map((s) => (s.urgent ? s.seq : 0)),
        'int8',
      )}, ${sqlArray(receivedAt, 'float8')}
    ) as u(device_id, sensors, last_seen_at, seq, urgent_seq, received_at)
    where l.device_id = u.device_id`)
  await tx.execute(sql`
    insert into ${twinInbox} (device_id, seq, batch, received_at)
    select device_id, seq, batch::jsonb, to_timestamp(received_at / 1000.0)
    from unnest(
      ${sqlArray(ids, 'text')}, ${sqlArray(
        stored.map((s) => s.seq),
        'int8',
      )}, ${sqlArray(batchJson, 'text')}, ${sqlArray(receivedAt, 'float8')}
    ) as i(device_id, seq, batch, received_at)`)
  return stored
}
