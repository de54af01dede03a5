/** The twin fields the dashboard shows, as queried (see queries.ts TWIN_FIELDS). */
export interface LiveSensor {
  name: string
  value: unknown
  deviceTime: string | null
  receivedAt: string
  changedAt: string
  health: string
  healthReason: string | null
}

export interface LiveTwin {
  version: number
  online: boolean
  health: string
  healthReason: string | null
  lastSeenAt: string | null
  reported: Record<string, unknown> | null
  sensors: LiveSensor[]
}

export interface TwinEvent<T extends LiveTwin> {
  version: number
  live: boolean
  twin: T
}

/**
 * The twin after a twinChanged event. A version event carries the whole twin at that version.
 * A live event (ingest, ahead of the workflow) carries new values, but the workflow's fields as
 * it found them, which may be older than a version event already shown: then only its live
 * fields are taken, each sensor keeping the health it had.
 */
export function applyTwinEvent<T extends LiveTwin>(current: T, event: TwinEvent<T>): T {
  if (!event.live || event.version >= current.version) {
    return { ...event.twin, version: Math.max(event.twin.version, current.version) }
  }
  const before = new Map(current.sensors.map((s) => [s.name, s]))
  return {
    ...current,
    lastSeenAt: event.twin.lastSeenAt,
    reported: event.twin.reported,
    sensors: event.twin.sensors.map((sensor) => {
      const old = before.get(sensor.name)
      return old ? { ...sensor, health: old.health, healthReason: old.healthReason } : sensor
    }),
  }
}

/** When any of the twin's sensors last changed value. */
export const lastChange = (twin: LiveTwin): string | null =>
  twin.sensors.reduce<string | null>(
    (latest, s) => (latest === null || s.changedAt > latest ? s.changedAt : latest),
    null,
  )
