import { and, eq, sql } from 'drizzle-orm'
import { devices, twins } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { connection, pageSize } from './connection.ts'
import { type DeviceParent, selectDevices } from './device-row.ts'

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
      where?: {
        online?: boolean | null
        model?: string | null
        health?: string | null
        reserved?: boolean | null
      } | null
    },
    ctx: ApiContext,
  ) {
    const { online, model, health, reserved } = args.where ?? {}
    const page = await selectDevices(ctx.db, {
      where: and(
        online === undefined || online === null ? undefined : eq(twins.online, online),
        model ? eq(devices.modelId, model) : undefined,
        health ? eq(twins.health, health) : undefined,
        reserved === undefined || reserved === null ? undefined : isReserved(reserved),
      ),
      after: args.after ? decodeCursor(args.after) : undefined,
      limit: pageSize(args.first) + 1,
    })
    return connection(page, args.first, (device) => encodeCursor(device.id))
  },
}

/** An active reservation lives in the twin's snapshot until its timer ends it. */
const isReserved = (reserved: boolean) => {
  const active = sql`coalesce((${twins.state}->'reservation'->>'status') = 'ACTIVE'
    and (${twins.state}->'reservation'->>'expiresAt')::bigint > ${Date.now()}, false)`
  return reserved ? active : sql`not ${active}`
}
