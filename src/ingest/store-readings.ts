import type { Db } from '../db/client.ts'
import { insertInChunks } from '../db/insert-in-chunks.ts'
import { telemetry } from '../db/schema.ts'
import type { DeviceBatch } from './batcher.ts'

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
  await insertInChunks(db, telemetry, rows)
  return rows.length
}
