import { and, asc, eq, gt, isNotNull, isNull, max } from 'drizzle-orm'
import { filter, map, pipe } from 'graphql-yoga'
import type { AlertRow } from '../../activities/store-alerts.ts'
import { lockChangeFeed, nextSeq } from '../../db/change-feed.ts'
import { alerts } from '../../db/schema.ts'
import { newChanges, replayThenLive } from '../../events/resume.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import { requireRole } from '../roles.ts'
import { connection, pageSize } from './connection.ts'
import type { DeviceParent } from './device-row.ts'

import { newestFirst } from './newest-first.ts'
import { followThenReplay, MAX_REPLAY, parseFeedCursor } from './resume-point.ts'
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
  changeCursor: (alert: AlertRow) => String(alert.changeSeq),
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
    const [row] = await ctx.db.transaction(async (tx) => {
      await lockChangeFeed(tx)
      return tx
        .update(alerts)
        .set({
          acknowledgedAt: new Date(),
          acknowledgedBy: ctx.viewer.sub,
          changeSeq: nextSeq('alerts', 'change_seq'),
        })
        .where(and(eq(alerts.id, args.id), isNull(alerts.acknowledgedAt)))
        .returning()
    })
    const alert = row ?? (await ctx.db.select().from(alerts).where(eq(alerts.id, args.id)))[0]
    if (!alert) throw badInput(`no alert "${args.id}"`)
    if (row)
      await ctx.hub.publish(
        ctx.announcements.alert.topic(alert.deviceId),
        ctx.announcements.alert.encode(alert),
      )
    return alert
  },
}

/**
 * Alerts as they change; with `after` (a changeCursor), first every alert that changed since, at
 * its newest state, in change order. Each change of an alert takes a new position in one feed,
 * in commit order, so the topic is subscribed before the table is read and a live change the
 * read already held is dropped (`newChanges`): nothing missed, nothing twice.
 */
export const alertSubscription = {
  async subscribe(
    _: unknown,
    args: { deviceId?: string | null; after?: string | null },
    ctx: ApiContext,
  ) {
    const after =
      args.after == null ? null : parseFeedCursor(args.after, await newest(ctx), 'alerts')
    const { followed, replayed } = await followThenReplay(
      ctx,
      ctx.announcements.alert.topic(args.deviceId ?? '+'),
      async () => (after === null ? [] : changedAfter(ctx, after, args.deviceId)),
      'alert changes',
      'read the alerts with the alerts query (newest first), then subscribe without after',
    )
    const live = pipe(
      { [Symbol.asyncIterator]: () => followed },
      map((payload) => ctx.announcements.alert.decode(payload)),
      filter((alert) => !args.deviceId || alert.deviceId === args.deviceId),
    )
    const admit = newChanges<AlertRow>(
      after ?? 0,
      (alert) => alert.id,
      (alert) => alert.changeSeq,
    )
    return replayThenLive(replayed, live, admit, followed)
  },
  resolve: (alert: AlertRow) => alert,
}

/** The alerts feed's newest position (0 while there is no alert). */
async function newest(ctx: ApiContext): Promise<number> {
  const [row] = await ctx.db.select({ seq: max(alerts.changeSeq) }).from(alerts)
  return row?.seq ?? 0
}

/** Alerts changed after a feed position, oldest change first: one more than a replay sends. */
const changedAfter = (ctx: ApiContext, after: number, deviceId?: string | null) =>
  ctx.db
    .select()
    .from(alerts)
    .where(and(gt(alerts.changeSeq, after), deviceId ? eq(alerts.deviceId, deviceId) : undefined))
    .orderBy(asc(alerts.changeSeq))
    .limit(MAX_REPLAY + 1)
