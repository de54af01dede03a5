import { eq } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { devices } from '../db/schema.ts'
import type { DeviceCredentials } from '../embedded/broker-auth.ts'

/** What the embedded broker checks a connecting device against; null for an unknown id. */
export async function findDeviceCredentials(
  db: Db,
  deviceId: string,
): Promise<DeviceCredentials | null> {
  const [row] = await db
    .select({ secretHash: devices.secretHash, decommissionedAt: devices.decommissionedAt })
    .from(devices)
    .where(eq(devices.id, deviceId))
  return row ? { secretHash: row.secretHash, decommissioned: row.decommissionedAt !== null } : null
}
