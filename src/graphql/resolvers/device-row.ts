import { and, asc, eq, gt, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { devices, twinLive, twins } from '../../db/schema.ts'
import type { TwinState } from '../../twins/state.ts'

/** What the api reads of a twin's live row: its live state and how far the workflow is behind. */
export const liveColumns = {
  sensors: twinLive.sensors,
  lastSeenAt: twinLive.lastSeenAt,
  inboxSeq: twinLive.inboxSeq,
  appliedSeq: twinLive.appliedSeq,
  pendingSince: twinLive.pendingSince,
}

export type LiveRow = Pick<typeof twinLive.$inferSelect, keyof typeof liveColumns>

/**
 * A device as resolvers pass it on: its registry row, its twin's latest snapshot, and the live
 * row ingest keeps.
 */
export type DeviceParent = typeof devices.$inferSelect & {
  twin: TwinState | null
  live: LiveRow | null
}

/** Devices with their twins' snapshots, in id order, in one query. */
export async function selectDevices(
  db: Db,
  opts: { where?: SQL | undefined; after?: string | undefined; limit: number },
): Promise<DeviceParent[]> {
  const rows = await db
    .select({ device: devices, twin: twins.state, live: liveColumns })
    .from(devices)
    .leftJoin(twins, eq(twins.deviceId, devices.id))
    .leftJoin(twinLive, eq(twinLive.deviceId, devices.id))
    .where(and(opts.where, opts.after === undefined ? undefined : gt(devices.id, opts.after)))
    .orderBy(asc(devices.id))
    .limit(opts.limit)
  return rows.map(({ device, twin, live }) => ({ ...device, twin, live }))
}
