import { feedAggregates } from './aggregates.ts'
import type { TwinBatch } from './batch.ts'
import { applyAck } from './commands.ts'
import { recordChange } from './health/index.ts'
import type { DeviceModel } from './model.ts'
import { type Reading, redeliveryKey, type SensorValue, type StatusReport } from './reading.ts'
import type { ClockSkew, SensorState, TwinState } from './state.ts'

/** How many re-delivery keys a twin remembers: a broker re-delivers recent messages only. */
export const RECENT_KEYS_LIMIT = 1024

export function newTwin(deviceId: string): TwinState {
  return {
    deviceId,
    version: 0,
    revision: 0,
    online: false,
    lastSeenAt: null,
    sensors: {},
    clockSkew: null,
    recentKeys: [],
    clock: null,
    modelId: null,
    health: 'UNKNOWN',
    healthReason: 'never seen',
    sensorHealth: {},
    tracks: {},
    aggregates: {},
    desired: null,
    commands: [],
    reservation: null,
    inboxSeq: 0,
    appliedMessages: 0,
  }
}

/**
 * The twin as written to Postgres and announced to subscribers: without its re-delivery keys
 * and aggregate windows, which only the workflow needs. At 1,024 keys they are 20 of a
 * long-lived twin's 22 KB, a window up to 4 KB, and each batch writes the twin three times
 * (snapshot, change-log entry, announcement). A twin restarted from its snapshot (terminated,
 * not continued as new) fills its windows again from the readings that follow.
 */
export function publishedTwin(twin: TwinState): TwinState {
  const bare = twin.recentKeys.length === 0 && Object.keys(twin.aggregates).length === 0
  return bare ? twin : { ...twin, recentKeys: [], aggregates: {} }
}

/**
 * A twin as stored (a snapshot, a change-log entry, a continue-as-new input), with the fields
 * added since it was written at their empty values: one place for every reader of old states.
 */
export function restoreTwin(deviceId: string, stored: TwinState | null | undefined): TwinState {
  return { ...newTwin(deviceId), ...stored }
}

/**
 * Applies one batch from ingest. Readings are applied in device-time order; a reading older than
 * what the twin holds for a sensor never overwrites it (it is history only), and a re-delivered
 * message changes nothing. Statuses are applied in receive order.
 */
export function applyBatch(
  twin: TwinState,
  batch: TwinBatch,
  model: DeviceModel | null = null,
): TwinState {
  const sensors = { ...twin.sensors }
  let tracks = twin.tracks
  let aggregates = twin.aggregates
  let clock = twin.clock
  const seen = new Set(twin.recentKeys)
  const recentKeys = [...twin.recentKeys]
  let clockSkew = twin.clockSkew

  const ordered = [...batch.readings].sort((a, b) => a.time - b.time)
  for (const reading of ordered) {
    const key = redeliveryKey(reading)
    if (key !== null) {
      if (seen.has(key)) continue
      seen.add(key)
      recentKeys.push(key)
    }
    clockSkew = nextClockSkew(clockSkew, reading)
    if (!clock || reading.time >= clock.time)
      clock = { time: reading.time, receivedAt: reading.receivedAt }
    for (const [name, value] of Object.entries(reading.values)) {
      const current = sensors[name]
      const next = applyValue(current, value, reading)
      if (next === current) continue
      if (current === undefined || current.value !== value) {
        tracks = recordChange(tracks, name, reading.time, value, model)
        aggregates = feedAggregates(aggregates, name, reading.time, value, model)
      }
      sensors[name] = next
    }
  }

  const commands = (batch.acks ?? []).reduce(applyAck, twin.commands)
  const lastStatus = [...batch.statuses].sort((a, b) => a.receivedAt - b.receivedAt).at(-1)

  return {
    ...twin,
    online: lastStatus?.online ?? twin.online,
    lastSeenAt: lastSeen(twin.lastSeenAt, batch),
    sensors,
    clockSkew,
    recentKeys: recentKeys.slice(-RECENT_KEYS_LIMIT),
    clock,
    tracks,
    aggregates,
    commands,
    appliedMessages: twin.appliedMessages + batch.messages,
  }
}

/** When the device was last seen, given a batch: its newest telemetry or online report. */
export function lastSeen(before: number | null, batch: TwinBatch): number | null {
  return latest(before, batch.lastTelemetryAt, lastOnlineReport(batch.statuses))
}

/** The sensor's next state, or the same object when the reading is late or a repeat. */
export function applyValue(
  current: SensorState | undefined,
  value: SensorValue,
  reading: Reading,
): SensorState {
  if (current && reading.time < current.time) return current
  if (current && reading.time === current.time && current.value === value) return current
  const changed = !current || current.value !== value
  return {
    value,
    time: reading.time,
    deviceTime: reading.deviceTime,
    receivedAt: reading.receivedAt,
    changedAt: changed ? reading.time : current.changedAt,
  }
}

function nextClockSkew(current: ClockSkew | null, reading: Reading): ClockSkew | null {
  if (reading.clockSkewed && reading.deviceTime !== null) {
    return { deviceTime: reading.deviceTime, receivedAt: reading.receivedAt }
  }
  // A trusted reading received after the last skewed one means the clock is right again.
  if (current && reading.deviceTime !== null && reading.receivedAt >= current.receivedAt) {
    return null
  }
  return current
}

/** A device that says it is online was seen; its last will is sent by the broker, not by it. */
function lastOnlineReport(statuses: readonly StatusReport[]): number | null {
  return statuses.reduce<number | null>((at, s) => (s.online ? latest(at, s.receivedAt) : at), null)
}

function latest(...times: (number | null)[]): number | null {
  const known = times.filter((t): t is number => t !== null)
  return known.length === 0 ? null : Math.max(...known)
}

/** Sensor name → last-known value: the twin's reported document. */
export function reported(twin: TwinState): Record<string, SensorValue> {
  return Object.fromEntries(Object.entries(twin.sensors).map(([name, s]) => [name, s.value]))
}
