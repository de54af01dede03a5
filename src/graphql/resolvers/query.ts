import { and, eq } from 'drizzle-orm'
import { devices, twins } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import { type DeviceParent, selectDevices } from './device-row.ts'

export const MAX_PAGE_SIZE = 500

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url')
const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8')

export const Query = {
  async device(_: unknown, args: { id: string }, ctx: ApiContext): Promise<DeviceParent | null> {
    const [device] = await selectDevices(ctx.db, { where: eq(devices.id, args.id), limit: 1 })
    return device ?? null
  },

  async devices(
    _: unknown,
    args: {
      first: number
      after?: string | null
      where?: { online?: boolean | null; model?: string | null; health?: string | null } | null
    },
    ctx: ApiContext,
  ) {
    if (args.first < 0 || args.first > MAX_PAGE_SIZE) {
      throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}, got ${args.first}`)
    }
    const { online, model, health } = args.where ?? {}
    const page = await selectDevices(ctx.db, {
      where: and(
        online === undefined || online === null ? undefined : eq(twins.online, online),
        model ? eq(devices.modelId, model) : undefined,
        health ? eq(twins.health, health) : undefined,
      ),
      after: args.after ? decodeCursor(args.after) : undefined,
      limit: args.first + 1,
    })
    const edges = page.slice(0, args.first).map((node) => ({ cursor: encodeCursor(node.id), node }))
    return {
      edges,
      pageInfo: { hasNextPage: page.length > args.first, endCursor: edges.at(-1)?.cursor ?? null },
    }
  },
}
