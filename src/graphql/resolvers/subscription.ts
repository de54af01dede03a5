import { and, asc, eq, gt, max } from 'drizzle-orm'
import { filter, map, pipe, Repeater } from 'graphql-yoga'
import { devices, twinEvents } from '../../db/schema.ts'
import { inVersionOrder, replayThenLive } from '../../events/resume.ts'
import { decodeParsed } from '../../protocol/decode.ts'
import type { TwinChange } from '../../twins/change.ts'
import type { LiveEvent } from '../../twins/live.ts'
import type { ApiContext } from '../context.ts'
import { selectDevices } from './device-row.ts'
import { checkSinceVersion, followThenReplay, MAX_REPLAY } from './resume-point.ts'
import { type TwinView, twinView } from './twin.ts'

/** A live reported change as `twinChanged` delivers it. */
interface LiveTwinEvent {
  deviceId: string
  version: number
  at: number
  kind: 'live'
  live: true
  changes: LiveEvent['changes']
  twin: TwinView
}

/**
 * A twin's new versions (from its workflow) and its live reported changes (from ingest), as they
 * come; with `since`, first every version after it from the change log. A live event shows the
 * twin as apps read it then: the live row, which ingest committed before it announced the
 * change, over the workflow's latest snapshot.
 *
 * Hand-over: the versions topic is subscribed before the log is read, a version event that the
 * log already held is dropped, and a version that skips one has the missing ones read from the
 * log first (`inVersionOrder`): every version once, in order. The twin's workflow writes a
 * version to the log before it announces it.
 */
async function twinChanges(ctx: ApiContext, deviceId: string, since: number | null) {
  if (since !== null) checkSinceVersion(deviceId, since, await newestVersion(ctx, deviceId))
  const { followed: versions, replayed } = await followThenReplay(
    ctx,
    ctx.announcements.twinChange.topic(deviceId),
    async () => (since === null ? [] : versionsBetween(ctx, deviceId, since, MAX_REPLAY + 1)),
    `versions of twin "${deviceId}"`,
    `read them with device(id: "${deviceId}") { history }, then subscribe with the newest version as sinceVersion`,
  )
  const announced = pipe(
    iterable(versions),
    map((payload) => ctx.announcements.twinChange.decode(payload)),
  )
  const lives = pipe(
    ctx.hub.listen(ctx.announcements.liveTwin.topic(deviceId)),
    map((payload) => liveTwinEvent(ctx, deviceId, payload)),
    filter((event): event is LiveTwinEvent => event !== null),
  )
  return replayThenLive<TwinChange | LiveTwinEvent>(
    replayed,
    Repeater.merge([announced, lives]),
    inVersionOrder(
      since,
      (event) => ('live' in event ? null : event.version),
      (from, to) => versionsBetween(ctx, deviceId, from, to - from - 1),
    ),
    versions,
  )
}

/** The twin's newest version in its change log (0 before its first). */
async function newestVersion(ctx: ApiContext, deviceId: string): Promise<number> {
  const [row] = await ctx.db
    .select({ version: max(twinEvents.version) })
    .from(twinEvents)
    .where(eq(twinEvents.deviceId, deviceId))
  return row?.version ?? 0
}

/** Up to `limit` versions after `after`, oldest first, as the change log holds them. */
async function versionsBetween(
  ctx: ApiContext,
  deviceId: string,
  after: number,
  limit: number,
): Promise<TwinChange[]> {
  const rows = await ctx.db
    .select()
    .from(twinEvents)
    .where(and(eq(twinEvents.deviceId, deviceId), gt(twinEvents.version, after)))
    .orderBy(asc(twinEvents.version))
    .limit(limit)
  return rows.map((row) => ({ ...row, at: row.at.getTime() }))
}

async function liveTwinEvent(
  ctx: ApiContext,
  deviceId: string,
  payload: Buffer,
): Promise<LiveTwinEvent | null> {
  const liveEvent = ctx.announcements.liveTwin.decode(payload)
  const [device] = await selectDevices(ctx.db, { where: eq(devices.id, deviceId), limit: 1 })
  if (!device) return null
  const twin = twinView(deviceId, device.twin, device.live)
  return {
    deviceId,
    version: twin.version,
    at: Date.now(),
    kind: 'live',
    live: true,
    changes: liveEvent.changes,
    twin,
  }
}

/** An iterator the hub already started, as something to pipe. */
const iterable = <T>(iterator: AsyncIterator<T>): AsyncIterable<T> => ({
  [Symbol.asyncIterator]: () => iterator,
})

/** Readings as the `telemetry` subscription delivers them: one per sensor value. */
interface ReadingEvent {
  deviceId: string
  sensor: string
  value: unknown
  deviceTime: number | null
  receivedAt: number
}

export const Subscription = {
  twinChanged: {
    subscribe: (
      _: unknown,
      args: { deviceId: string; sinceVersion?: number | null },
      ctx: ApiContext,
    ) => twinChanges(ctx, args.deviceId, args.sinceVersion ?? null),
    resolve: (event: TwinChange | LiveTwinEvent) => event,
  },

  // Live telemetry comes straight from the device's topic on the broker: it need not wait for
  // Temporal or Postgres. Messages ingest would reject are not passed on.
  telemetry: {
    subscribe: (
      _: unknown,
      args: { deviceId: string; sensor?: string | null },
      ctx: ApiContext,
    ) => {
      const topic = ctx.topics.device(args.deviceId, 'telemetry')
      return flatten(
        pipe(
          ctx.hub.listen(topic),
          map((payload) => readingsIn(topic, args.deviceId, payload)),
          map((readings) => readings.filter((r) => !args.sensor || r.sensor === args.sensor)),
          filter((readings) => readings.length > 0),
        ),
      )
    },
    resolve: (reading: ReadingEvent) => reading,
  },
}

/** The device's topic is known here: its payload is checked without parsing the topic again. */
function readingsIn(topic: string, deviceId: string, payload: Buffer): ReadingEvent[] {
  const message = decodeParsed({ deviceId, kind: 'telemetry' }, topic, payload, Date.now(), {
    maxPayloadBytes: Number.POSITIVE_INFINITY,
  })
  if (!message.ok || message.kind !== 'telemetry') return []
  return message.readings.flatMap((r) =>
    Object.entries(r.values).map(([sensor, value]) => ({
      deviceId,
      sensor,
      value,
      deviceTime: r.deviceTime,
      receivedAt: r.receivedAt,
    })),
  )
}

async function* flatten<T>(source: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const items of source) yield* items
}
