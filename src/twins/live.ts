import type { TwinBatch } from './batch.ts'
import type { SensorState, TwinState } from './state.ts'
import { applyValue, lastSeen } from './twin.ts'

/**
 * A twin's live reported state: the newest accepted value of each sensor and when the device
 * was last seen, kept by ingest in Postgres as it stores each reading, before the workflow has
 * applied it. It follows the twin's own ordering rules (`applyValue`): a late, repeated or
 * clock-skewed reading never overwrites a newer value.
 */
export interface LiveState {
  sensors: Record<string, SensorState>
  lastSeenAt: number | null
}

/** What ingest announces when a twin's live state changes (the api's live `twinChanged`). */
export interface LiveEvent extends LiveState {
  deviceId: string
  /** The inbox batch that made this state: orders announcements of one twin. */
  inboxSeq: number
  /** The values this batch changed: `reported.{sensor}` → before and after. */
  changes: Record<string, { from: unknown; to: unknown }>
}

export const emptyLive = (): LiveState => ({ sensors: {}, lastSeenAt: null })

/**
 * The live state after a batch; whether anything a reader sees changed (values, times, last
 * seen), and which values changed, as the change log spells them (`reported.temperature`).
 */
export function applyLive(
  live: LiveState,
  batch: TwinBatch,
): { live: LiveState; changed: boolean; changes: LiveEvent['changes'] } {
  const sensors = { ...live.sensors }
  let changed = false
  for (const reading of [...batch.readings].sort((a, b) => a.time - b.time)) {
    for (const [name, value] of Object.entries(reading.values)) {
      const current = sensors[name]
      const next = applyValue(current, value, reading)
      if (next === current) continue
      sensors[name] = next
      changed = true
    }
  }
  const changes: LiveEvent['changes'] = {}
  for (const [name, sensor] of Object.entries(sensors)) {
    const from = live.sensors[name]?.value
    if (from !== sensor.value)
      changes[`reported.${name}`] = { from: from ?? null, to: sensor.value }
  }
  const lastSeenAt = lastSeen(live.lastSeenAt, batch)
  return {
    live: { sensors, lastSeenAt },
    changed: changed || lastSeenAt !== live.lastSeenAt,
    changes,
  }
}

/**
 * The twin as readers see it: the workflow's state with the live values over it. A sensor takes
 * the live value when it is at least as new as the workflow's; health, versions and everything
 * else derived stay the workflow's.
 */
export function withLive(twin: TwinState, live: LiveState | null): TwinState {
  if (!live) return twin
  const sensors = { ...twin.sensors }
  for (const [name, sensor] of Object.entries(live.sensors)) {
    const applied = sensors[name]
    if (!applied || sensor.time >= applied.time) sensors[name] = sensor
  }
  const lastSeenAt =
    live.lastSeenAt === null ? twin.lastSeenAt : Math.max(live.lastSeenAt, twin.lastSeenAt ?? 0)
  return { ...twin, sensors, lastSeenAt }
}
