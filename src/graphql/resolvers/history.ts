import { and, desc, eq, lt } from 'drizzle-orm'
import { twinEvents } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import { connection, pageSize } from './connection.ts'
import type { DeviceParent } from './device-row.ts'

/** `Device.history`: the change log, newest first, paged by version. */
export async function history(
  device: DeviceParent,
  args: { first: number; after?: string | null },
  ctx: ApiContext,
) {
  const before = args.after ? Number.parseInt(args.after, 10) : null
  if (args.after && !Number.isInteger(before))
    throw badInput(`after "${args.after}" is not a cursor of this list`)
  const rows = await ctx.db
    .select()
    .from(twinEvents)
    .where(
      and(
        eq(twinEvents.deviceId, device.id),
        before === null ? undefined : lt(twinEvents.version, before),
      ),
    )
    .orderBy(desc(twinEvents.version))
    .limit(pageSize(args.first) + 1)
  return connection(rows, args.first, (row) => String(row.version))
}
