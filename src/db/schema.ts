import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import type { TwinBatch } from '../twins/batch.ts'
import type { TwinChange } from '../twins/change.ts'
import type { CommandStatus } from '../twins/commands.ts'
import type { Health } from '../twins/health/types.ts'
import type { DeviceModel } from '../twins/model.ts'
import type { SensorValue } from '../twins/reading.ts'
import type { Reservation, SensorState, TwinState } from '../twins/state.ts'

const ms = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

/** Raw bytes: postgres.js reads `bytea` as a Buffer and PGlite as a Uint8Array, both Uint8Arrays. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
})

/** Device models: what a device's sensors are and when they count as broken. */
export const deviceModels = pgTable('device_models', {
  id: text('id').primaryKey(),
  spec: jsonb('spec').$type<DeviceModel>().notNull(),
  updatedAt: ms('updated_at').notNull().defaultNow(),
})

export const devices = pgTable(
  'devices',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id'),
    serialNumber: text('serial_number'),
    firmware: text('firmware'),
    labels: jsonb('labels').$type<Record<string, unknown>>(),
    /** scrypt hash of the device's MQTT secret; null for auto-provisioned devices. */
    secretHash: text('secret_hash'),
    createdAt: ms('created_at').notNull().defaultNow(),
    /** Set when the device leaves the fleet: its twin ends, its history stays. */
    decommissionedAt: ms('decommissioned_at'),
  },
  (t) => [index('devices_model_idx').on(t.modelId)],
)

/** The latest snapshot each twin workflow wrote: lists and filters are served from here. */
export const twins = pgTable(
  'twins',
  {
    deviceId: text('device_id').primaryKey(),
    version: integer('version').notNull(),
    revision: integer('revision').notNull(),
    online: boolean('online').notNull(),
    health: text('health').notNull().default('UNKNOWN'),
    lastSeenAt: ms('last_seen_at'),
    state: jsonb('state').$type<TwinState>().notNull(),
    updatedAt: ms('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('twins_online_idx').on(t.online, t.deviceId),
    index('twins_health_idx').on(t.health, t.deviceId),
  ],
)

/**
 * Each device's live reported state and its inbox's counters (see src/ingest/inbox.ts and the
 * docs/architecture.md, "Two speeds of a twin"). Ingest writes it with every flush, under a row lock, so that
 * several ingests number a device's inbox batches in commit order; the twin's writes move
 * `applied_seq` on.
 */
export const twinLive = pgTable('twin_live', {
  deviceId: text('device_id').primaryKey(),
  sensors: jsonb('sensors').$type<Record<string, SensorState>>().notNull().default({}),
  lastSeenAt: ms('last_seen_at'),
  /** The newest inbox batch stored. */
  inboxSeq: bigint('inbox_seq', { mode: 'number' }).notNull().default(0),
  /** The newest inbox batch the twin has applied and written. */
  appliedSeq: bigint('applied_seq', { mode: 'number' }).notNull().default(0),
  /** The newest inbox batch the twin was told of (claimed by an ingest), and when. */
  nudgedSeq: bigint('nudged_seq', { mode: 'number' }).notNull().default(0),
  nudgedAt: ms('nudged_at'),
  /** The newest inbox batch whose delivery Temporal accepted (it holds it durably since). */
  deliveredSeq: bigint('delivered_seq', { mode: 'number' }).notNull().default(0),
  /** The newest inbox batch that operators would act on (see src/twins/urgency.ts). */
  urgentSeq: bigint('urgent_seq', { mode: 'number' }).notNull().default(0),
  /** Receive time of the oldest batch the twin has not applied; null when it is current. */
  pendingSince: ms('pending_since'),
  /** Whether the last claim was urgent: checkpoints may fill only their share of the room. */
  nudgedUrgent: boolean('nudged_urgent').notNull().default(false),
  /**
   * The health of each sensor the twin's last written state holds neither OK nor UNKNOWN: what
   * ingest judges a batch's urgency by (see src/twins/urgency.ts).
   */
  sensorHealth: jsonb('sensor_health').$type<Record<string, Health>>().notNull().default({}),
})

/** Batches stored for a twin and not yet applied by it, numbered per device from 1. */
export const twinInbox = pgTable(
  'twin_inbox',
  {
    deviceId: text('device_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    batch: jsonb('batch').$type<TwinBatch>().notNull(),
    receivedAt: ms('received_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.seq] })],
)

/** The twin's change log: every version, what changed and why, and the twin as it then was. */
export const twinEvents = pgTable(
  'twin_events',
  {
    deviceId: text('device_id').notNull(),
    version: integer('version').notNull(),
    at: ms('at').notNull(),
    kind: text('kind').notNull(),
    changes: jsonb('changes').$type<TwinChange['changes']>().notNull(),
    twin: jsonb('twin').$type<TwinState>().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.deviceId, t.version] }),
    // Retention finds old versions by time: a BRIN index is a few pages and costs writes nothing.
    index('twin_events_at_brin_idx').using('brin', t.at),
  ],
)

/** Alerts: raised when a sensor or the device leaves OK, cleared when it returns. */
export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    deviceId: text('device_id').notNull(),
    /** Empty string for the device itself (so the one-active-alert index covers it too). */
    sensor: text('sensor').notNull(),
    kind: text('kind').notNull(),
    message: text('message').notNull(),
    raisedAt: ms('raised_at').notNull(),
    clearedAt: ms('cleared_at'),
    acknowledgedAt: ms('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    /**
     * Position of the alert's newest change (raised, cleared, acknowledged) in the alerts' change
     * feed: taken in commit order (src/db/change-feed.ts), so `alerts(after:)` resumes exactly.
     */
    changeSeq: bigserial('change_seq', { mode: 'number' }).notNull(),
  },
  (t) => [
    // Never two active alerts of one kind for one subject, however often a write is retried.
    uniqueIndex('alerts_active_idx')
      .on(t.deviceId, t.sensor, t.kind)
      .where(sql`${t.clearedAt} is null`),
    // One alert a raise: a retried write that raised and cleared it (a condition that came and
    // went between deliveries) finds it cleared, not absent, and raises nothing new.
    uniqueIndex('alerts_raise_idx').on(t.deviceId, t.sensor, t.kind, t.raisedAt),
    index('alerts_raised_idx').on(t.raisedAt.desc()),
    uniqueIndex('alerts_change_seq_idx').on(t.changeSeq),
  ],
)

/** Messages ingest refused, with why and exactly what they said: never dropped silently. */
export const rejectedMessages = pgTable(
  'rejected_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    receivedAt: ms('received_at').notNull(),
    topic: text('topic').notNull(),
    deviceId: text('device_id'),
    reason: text('reason').notNull(),
    detail: text('detail').notNull(),
    /** The payload byte for byte, whatever it holds (NUL, invalid UTF-8, anything). */
    payload: bytea('payload').notNull(),
  },
  (t) => [index('rejected_messages_received_idx').on(t.receivedAt.desc())],
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
    // Retention finds old readings by time alone. Rows arrive in about time order, which is
    // what BRIN summarises well; a b-tree would cost every insert on the busiest table.
    index('telemetry_time_brin_idx').using('brin', t.time),
    // A re-delivered message (same seq and device time) is stored once.
    uniqueIndex('telemetry_redelivery_idx')
      .on(t.deviceId, t.sensor, t.seq, t.deviceTime)
      .where(sql`${t.seq} is not null and ${t.deviceTime} is not null`),
  ],
)

/** Every command sent through a twin, at its newest state (see src/twins/commands.ts). */
export const commands = pgTable(
  'commands',
  {
    id: uuid('id').primaryKey(),
    deviceId: text('device_id').notNull(),
    name: text('name').notNull(),
    args: jsonb('args'),
    status: text('status').$type<CommandStatus>().notNull(),
    attempts: integer('attempts').notNull(),
    maxAttempts: integer('max_attempts').notNull(),
    timeoutSeconds: integer('timeout_seconds').notNull(),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    result: jsonb('result'),
    error: text('error'),
    idempotencyKey: text('idempotency_key'),
    requestedBy: text('requested_by').notNull(),
    reservationId: uuid('reservation_id'),
    revision: integer('revision').notNull(),
  },
  (t) => [
    index('commands_device_created_idx').on(t.deviceId, t.createdAt.desc(), t.id),
    uniqueIndex('commands_idempotency_idx')
      .on(t.deviceId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
  ],
)

/** Each status change of each command: the state machine's audit trail. */
export const commandEvents = pgTable(
  'command_events',
  {
    commandId: uuid('command_id').notNull(),
    /** Position in the command's trail (0 = created). */
    seq: integer('seq').notNull(),
    status: text('status').$type<CommandStatus>().notNull(),
    attempt: integer('attempt').notNull(),
    at: ms('at').notNull(),
    error: text('error'),
    /**
     * Position of this status change in the change feed of every command: taken in commit order
     * (src/db/change-feed.ts), so `commandUpdated(after:)` resumes exactly.
     */
    feedSeq: bigserial('feed_seq', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.commandId, t.seq] }),
    uniqueIndex('command_events_feed_seq_idx').on(t.feedSeq),
  ],
)

/** Every reservation, at its newest state (see src/twins/reservations.ts). */
export const reservations = pgTable(
  'reservations',
  {
    id: uuid('id').primaryKey(),
    deviceId: text('device_id').notNull(),
    holder: text('holder').notNull(),
    status: text('status').$type<Reservation['status']>().notNull(),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    releasedAt: ms('released_at'),
    revision: integer('revision').notNull(),
  },
  (t) => [index('reservations_device_idx').on(t.deviceId, t.createdAt.desc())],
)
