import { and, desc, eq, gte, lte } from 'drizzle-orm'
import { telemetry } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import { deviceAlerts } from './alerts.ts'
import { deviceCommands } from './commands.ts'
import { findModel } from './device-models.ts'
import type { DeviceParent } from './device-row.ts'
import { history } from './history.ts'
import { telemetryStats } from './telemetry-stats.ts'
import { type TwinView, twinView } from './twin.ts'

export const MAX_READINGS = 10_000

export const Device = {
  history,
  alerts: deviceAlerts,
  commands: deviceCommands,
  telemetryStats,
  model: (device: DeviceParent, _: unknown, ctx: ApiContext) =>
    device.modelId ? findModel(ctx, device.modelId) : null,

  /** A device whose twin has not written its first snapshot yet has an empty twin. */
  twin: (device: DeviceParent): TwinView => twinView(device.id, device.twin, device.live),

  async telemetry(
    device: DeviceParent,
    args: { sensor: string; from?: Date | null; to?: Date | null; last: number },
    ctx: ApiContext,
  ) {
    if (args.last < 1 || args.last > MAX_READINGS) {
      throw badInput(`last must be between 1 and ${MAX_READINGS}, got ${args.last}`)
    }
    const rows = await ctx.db
      .select()
      .from(telemetry)
      .where(
        and(
          eq(telemetry.deviceId, device.id),
          eq(telemetry.sensor, args.sensor),
          args.from ? gte(telemetry.time, args.from) : undefined,
          args.to ? lte(telemetry.time, args.to) : undefined,
        ),
      )
      .orderBy(desc(telemetry.time))
      .limit(args.last)
    return rows.reverse()
  },
}
