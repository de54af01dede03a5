import { eq } from 'drizzle-orm'
import { filter, map, pipe, Repeater } from 'graphql-yoga'
import { devices } from '../../db/schema.ts'
import { decodeParsed } from '../../ingest/decode.ts'
import type { TwinChange } from '../../twins/change.ts'
import type { LiveEvent } from '../../twins/live.ts'
import type { ApiContext } from '../context.ts'
import { selectDevices } from './device-row.ts'
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
 * come. A live event shows the twin as apps read it then: the live row, which ingest committed
 * before it announced the change, over the workflow's latest snapshot.
 */
async function* twinChanges(
  ctx: ApiContext,
  deviceId: string,
): AsyncGenerator<TwinChange | LiveTwinEvent> {
  const versions = ctx.hub.listen(ctx.topics.twinEvents(deviceId))
  const lives = pipe(
    ctx.hub.listen(ctx.topics.liveTwin(deviceId)),
    map((payload) => ({ liveEvent: JSON.parse(payload.toString('utf8')) as LiveEvent })),
  )
  for await (const item of Repeater.merge([versions, lives])) {
    if (Buffer.isBuffer(item)) {
      yield JSON.parse(item.toString('utf8')) as TwinChange
      continue
    }
    const { liveEvent } = item as { liveEvent: LiveEvent }
    const [device] = await selectDevices(ctx.db, { where: eq(devices.id, deviceId), limit: 1 })
    if (!device) continue
    const twin = twinView(deviceId, device.twin, device.live)
    yield {
      deviceId,
      version: twin.version,
      at: Date.now(),
      kind: 'live',
      live: true,
      changes: liveEvent.changes,
      twin,
    }
  }
}

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
    subscribe: (_: unknown, args: { deviceId: string }, ctx: ApiContext) =>
      twinChanges(ctx, args.deviceId),
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
