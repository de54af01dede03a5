import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import type { SensorValue } from '../twins/reading.ts'
import type { TwinState } from '../twins/twin.ts'

const ms = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

export const devices = pgTable('devices', {
  id: text('id').primaryKey(),
  modelId: text('model_id'),
  serialNumber: text('serial_number'),
  firmware: text('firmware'),
  labels: jsonb('labels').$type<Record<string, unknown>>(),
  createdAt: ms('created_at').notNull().defaultNow(),
})

/** The latest snapshot each twin workflow wrote: lists and filters are served from here. */
export const twins = pgTable(
  'twins',
  {
    deviceId: text('device_id').primaryKey(),
    version: integer('version').notNull(),
    revision: integer('revision').notNull(),
    online: boolean('online').notNull(),
    lastSeenAt: ms('last_seen_at'),
    state: jsonb('state').$type<TwinState>().notNull(),
    updatedAt: ms('updated_at').notNull().defaultNow(),
  },
  (t) => [index('twins_online_idx').on(t.online, t.deviceId)],
)

/** Every raw reading, one row per sensor value, written by ingest in bulk. */
export const telemetry = pgTable(
  'telemetry',
  {
    deviceId: text('device_id').notNull(),
    sensor: text('sensor').notNull(),
    value: jsonb('value').$type<SensorValue>(),
    /** The time the reading is ordered by: device clock when trusted, else receive time. */
    time: ms('time').notNull(),
    deviceTime: ms('device_time'),
    receivedAt: ms('received_at').notNull(),
    seq: bigint('seq', { mode: 'number' }),
  },
  (t) => [
    index('telemetry_device_sensor_time_idx').on(t.deviceId, t.sensor, t.time.desc()),
    // A re-delivered message (same seq and device time) is stored once.
    uniqueIndex('telemetry_redelivery_idx')
      .on(t.deviceId, t.sensor, t.seq, t.deviceTime)
      .where(sql`${t.seq} is not null and ${t.deviceTime} is not null`),
  ],
)
