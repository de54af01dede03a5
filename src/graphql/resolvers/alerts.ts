import { and, eq, isNotNull, isNull } from 'drizzle-orm'
import { filter, map, pipe } from 'graphql-yoga'
import type { AlertRow } from '../../activities/store-alerts.ts'
import { alerts } from '../../db/schema.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import { requireRole } from '../roles.ts'
import { connection, pageSize } from './connection.ts'
import type { DeviceParent } from './device-row.ts'

import { newestFirst } from './newest-first.ts'
import { UUID } from './uuid.ts'

const paging = newestFirst<AlertRow>(alerts.raisedAt, alerts.id, (a) => a.raisedAt)

const activeIs = (active: boolean | null | undefined) =>
  active === true
    ? isNull(alerts.clearedAt)
    : active === false
      ? isNotNull(alerts.clearedAt)
      : undefined

export const Alert = {
  sensor: (alert: AlertRow) => alert.sensor || null,
}

export const alertQueries = {
  async alerts(
    _: unknown,
    args: {
      where?: { deviceId?: string | null; active?: boolean | null; kind?: string | null } | null
      first: number
      after?: string | null
    },
    ctx: ApiContext,
  ) {
    const where = args.where ?? {}
    const rows = await ctx.db
      .select()
      .from(alerts)
      .where(
        and(
          where.deviceId ? eq(alerts.deviceId, where.deviceId) : undefined,
          where.kind ? eq(alerts.kind, where.kind) : undefined,
          activeIs(where.active),
          args.after ? paging.after(args.after) : undefined,
        ),
      )
      .orderBy(...paging.orderBy)
      .limit(pageSize(args.first) + 1)
    return connection(rows, args.first, paging.cursorOf)
  },
}

/** `Device.alerts`. */
export const deviceAlerts = (
  device: DeviceParent,
  args: { active?: boolean | null },
  ctx: ApiContext,
) =>
  ctx.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.deviceId, device.id), activeIs(args.active)))
    .orderBy(...paging.orderBy)

export const alertMutations = {
  async acknowledgeAlert(_: unknown, args: { id: string }, ctx: ApiContext) {
    requireRole(ctx, 'operator')
    if (!UUID.test(args.id)) throw badInput(`"${args.id}" is not an alert id`)
    const [row] = await ctx.db
      .update(alerts)
      .set({ acknowledgedAt: new Date(), acknowledgedBy: ctx.viewer.sub })
      .where(and(eq(alerts.id, args.id), isNull(alerts.acknowledgedAt)))
      .returning()
    const alert = row ?? (await ctx.db.select().from(alerts).where(eq(alerts.id, args.id)))[0]
    if (!alert) throw badInput(`no alert "${args.id}"`)
    if (row) await ctx.hub.publish(ctx.topics.alerts(alert.deviceId), alert)
    return alert
  },
}

export const alertSubscription = {
  subscribe: (_: unknown, args: { deviceId?: string | null }, ctx: ApiContext) =>
    pipe(
      ctx.hub.listen(ctx.topics.alerts(args.deviceId ?? '+')),
      map((payload) => revive(JSON.parse(payload.toString('utf8')))),
      filter((alert) => !args.deviceId || alert.deviceId === args.deviceId),
    ),
  resolve: (alert: AlertRow) => alert,
}

/** Alert rows cross the broker as JSON: their dates come back as strings. */
function revive(row: Record<string, unknown>): AlertRow {
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null)
  return {
    ...(row as unknown as AlertRow),
    raisedAt: date(row.raisedAt) as Date,
    clearedAt: date(row.clearedAt),
    acknowledgedAt: date(row.acknowledgedAt),
  }
}
