import { and, desc, eq, lt } from 'drizzle-orm'
import { twinEvents } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import type { DeviceParent } from './device-row.ts'
import { MAX_PAGE_SIZE } from './query.ts'

/** `Device.history`: the change log, newest first, paged by version. */
export async function history(
  device: DeviceParent,
  args: { first: number; after?: string | null },
  ctx: ApiContext,
) {
  if (args.first < 0 || args.first > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}, got ${args.first}`)
  }
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
    .limit(args.first + 1)
  const edges = rows.slice(0, args.first).map((node) => ({ cursor: String(node.version), node }))
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > args.first, endCursor: edges.at(-1)?.cursor ?? null },
  }
}
