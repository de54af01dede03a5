import { and, eq, gte, lt, sql } from 'drizzle-orm'
import { telemetry } from '../../db/schema.ts'
import { parseDuration } from '../../duration.ts'
import type { ApiContext } from '../context.ts'
import { badInput } from '../errors.ts'
import type { DeviceParent } from './device-row.ts'

/** At most this many buckets per call: a chart is a few hundred points wide. */
export const MAX_BUCKETS = 1000

/** Bucket widths suggested when a call asks for too many: the first wide enough is named. */
const NICE_BUCKETS = ['1s', '5s', '10s', '15s', '30s', '1m', '5m', '10m', '15m', '30m', '1h']
  .concat(['3h', '6h', '12h', '1d', '7d', '30d'])
  .map((text) => ({ text, ms: parseDuration(text) ?? 0 }))

/** The call's range and bucket width in milliseconds, or BAD_USER_INPUT saying what to change. */
export function statsWindow(args: { from: Date; to: Date; bucket: string }) {
  const bucketMs = parseDuration(args.bucket)
  if (bucketMs === null)
    throw badInput(
      `bucket "${args.bucket}" is not a duration: write a number and a unit, e.g. "30s", "5m", "1h", "1d"`,
    )
  if (bucketMs < 1000 || bucketMs % 1000 !== 0)
    throw badInput(`bucket "${args.bucket}" must be whole seconds, at least 1s`)
  const rangeMs = args.to.getTime() - args.from.getTime()
  if (rangeMs <= 0) throw badInput('from must be before to')
  const buckets = Math.ceil(rangeMs / bucketMs)
  if (buckets > MAX_BUCKETS) {
    const needed = rangeMs / MAX_BUCKETS
    const wider =
      NICE_BUCKETS.find((b) => b.ms >= needed)?.text ?? `${Math.ceil(needed / 86_400_000)}d`
    throw badInput(
      `asks for ${buckets.toLocaleString('en')} buckets; at most ${MAX_BUCKETS.toLocaleString('en')}: widen bucket to ${wider} or shorten the range`,
    )
  }
  return { bucketMs, rangeMs }
}

/**
 * `Device.telemetryStats`: one sensor's readings in [from, to), grouped by `date_bin` into
 * buckets of `bucket` counted from `from`. min, max and avg are over the numeric readings only
 * (null when a bucket has none); count and last are over every reading. Buckets without readings
 * are left out. Served by the (device, sensor, time) index.
 */
export async function telemetryStats(
  device: DeviceParent,
  args: { sensor: string; from: Date; to: Date; bucket: string },
  ctx: ApiContext,
) {
  const { bucketMs } = statsWindow(args)
  const from = args.from.toISOString()
  const start = sql`date_bin(${`${bucketMs / 1000} seconds`}::interval, ${telemetry.time}, ${from}::timestamptz)`
  const number = sql`case when jsonb_typeof(${telemetry.value}) = 'number' then (${telemetry.value})::float8 end`
  return (
    ctx.db
      .select({
        start: sql`${start}`.mapWith(telemetry.time),
        min: sql`min(${number})`.mapWith(Number),
        max: sql`max(${number})`.mapWith(Number),
        avg: sql`avg(${number})`.mapWith(Number),
        count: sql`count(*)`.mapWith(Number),
        // The value the twin would hold at the bucket's end: newest by ordering time.
        last: sql`(array_agg(${telemetry.value} order by ${telemetry.time} desc, ${telemetry.receivedAt} desc))[1]`.mapWith(
          telemetry.value,
        ),
      })
      .from(telemetry)
      .where(
        and(
          eq(telemetry.deviceId, device.id),
          eq(telemetry.sensor, args.sensor),
          gte(telemetry.time, args.from),
          lt(telemetry.time, args.to),
        ),
      )
      // By position: the same expression written again would carry parameters of its own, and
      // Postgres could not tell it is the one selected.
      .groupBy(sql`1`)
      .orderBy(sql`1`)
  )
}
