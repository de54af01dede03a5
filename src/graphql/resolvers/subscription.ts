import { filter, map, pipe } from 'graphql-yoga'
import { decodeParsed } from '../../ingest/decode.ts'
import type { TwinChange } from '../../twins/change.ts'
import type { ApiContext } from '../context.ts'

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
      pipe(
        ctx.hub.listen(ctx.topics.twinEvents(args.deviceId)),
        map((payload) => JSON.parse(payload.toString('utf8')) as TwinChange),
      ),
    resolve: (event: TwinChange) => event,
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
