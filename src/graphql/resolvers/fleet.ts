import { count, eq, isNull, sql } from 'drizzle-orm'
import { devices, twins } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'

/** Devices in the fleet (not decommissioned) by twin health and online, in one grouped query. */
export const fleetQueries = {
  async fleet(_: unknown, _args: unknown, ctx: ApiContext) {
    // A device whose twin has not written its first snapshot yet counts as UNKNOWN and offline.
    const health = sql<string>`coalesce(${twins.health}, 'UNKNOWN')`
    const online = sql<boolean>`coalesce(${twins.online}, false)`
    const rows = await ctx.db
      .select({ health, online, devices: count() })
      .from(devices)
      .leftJoin(twins, eq(twins.deviceId, devices.id))
      .where(isNull(devices.decommissionedAt))
      .groupBy(health, online)
    const byHealth = new Map<string, number>()
    for (const row of rows) byHealth.set(row.health, (byHealth.get(row.health) ?? 0) + row.devices)
    return {
      devices: rows.reduce((sum, row) => sum + row.devices, 0),
      online: rows.reduce((sum, row) => sum + (row.online ? row.devices : 0), 0),
      byHealth: [...byHealth].map(([health, devices]) => ({ health, devices })),
    }
  },
}
