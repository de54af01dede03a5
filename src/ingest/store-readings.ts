import type { Db } from '../db/client.ts'
import { telemetry } from '../db/schema.ts'
import type { DeviceBatch } from './batcher.ts'

/** Postgres allows 65,534 bind parameters per statement; a telemetry row takes 7. */
const ROWS_PER_INSERT = Math.floor(65_534 / 7)

/** Writes every raw reading of a flush to `telemetry`, a few multi-row inserts in all. */
export async function storeReadings(db: Db, batches: readonly DeviceBatch[]): Promise<number> {
  const rows = batches.flatMap((batch) =>
    batch.readings.flatMap((r) =>
      Object.entries(r.values).map(([sensor, value]) => ({
        deviceId: batch.deviceId,
        sensor,
        value,
        time: new Date(r.time),
        deviceTime: r.deviceTime === null ? null : new Date(r.deviceTime),
        receivedAt: new Date(r.receivedAt),
        seq: r.seq,
      })),
    ),
  )
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    // A message the broker re-delivered after a crash is stored once (telemetry_redelivery_idx).
    await db
      .insert(telemetry)
      .values(rows.slice(i, i + ROWS_PER_INSERT))
      .onConflictDoNothing()
  }
  return rows.length
}
