import { and, asc, eq, gt, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { devices, twins } from '../../db/schema.ts'
import type { TwinState } from '../../twins/twin.ts'

/** A device as resolvers pass it on: its registry row and its twin's latest snapshot. */
export type DeviceParent = typeof devices.$inferSelect & { twin: TwinState | null }

/** Devices with their twins' snapshots, in id order, in one query. */
export async function selectDevices(
  db: Db,
  opts: { where?: SQL | undefined; after?: string | undefined; limit: number },
): Promise<DeviceParent[]> {
  const rows = await db
    .select({ device: devices, twin: twins.state })
    .from(devices)
    .leftJoin(twins, eq(twins.deviceId, devices.id))
    .where(and(opts.where, opts.after === undefined ? undefined : gt(devices.id, opts.after)))
    .orderBy(asc(devices.id))
    .limit(opts.limit)
  return rows.map(({ device, twin }) => ({ ...device, twin }))
}
