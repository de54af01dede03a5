import type { SensorValue } from './reading.ts'
import type { TwinState } from './state.ts'

/** One entry of a twin's change log: which version, when, what changed and why. */
export interface TwinChange {
  deviceId: string
  version: number
  at: number
  /** What kind of change made this version: reported, online, health, desired, model, reservation. */
  kind: string
  /** Field → before and after, e.g. `reported.temperature`, `online`, `health`. */
  changes: Record<string, { from: unknown; to: unknown }>
  twin: TwinState
}

/**
 * What a reader would see change between two states of a twin, as a log entry for the newer
 * one; null when nothing did (a refresh of times only).
 */
export function describeChange(before: TwinState, after: TwinState, at: number): TwinChange | null {
  const changes: TwinChange['changes'] = {}
  const kinds = new Set<string>()
  const note = (kind: string, field: string, from: unknown, to: unknown) => {
    if (same(from, to)) return
    changes[field] = { from, to }
    kinds.add(kind)
  }
  for (const name of new Set([...Object.keys(before.sensors), ...Object.keys(after.sensors)])) {
    note('reported', `reported.${name}`, valueIn(before, name), valueIn(after, name))
  }
  note('online', 'online', before.online, after.online)
  note('health', 'health', before.health, after.health)
  for (const name of new Set([
    ...Object.keys(before.sensorHealth),
    ...Object.keys(after.sensorHealth),
  ])) {
    note(
      'health',
      `health.${name}`,
      before.sensorHealth[name]?.health,
      after.sensorHealth[name]?.health,
    )
  }
  note('desired', 'desired', before.desired, after.desired)
  note('model', 'model', before.modelId, after.modelId)
  note('reservation', 'reservation', shownReservation(before), shownReservation(after))
  if (kinds.size === 0) return null
  return {
    deviceId: after.deviceId,
    version: after.version,
    at,
    kind: [...kinds].join(','),
    changes,
    twin: after,
  }
}

/** What a reader sees of the reservation: who holds it, until when, and how it ended. */
const shownReservation = ({ reservation: r }: TwinState) =>
  r ? { id: r.id, holder: r.holder, status: r.status, expiresAt: r.expiresAt } : null

const valueIn = (twin: TwinState, sensor: string): SensorValue | undefined =>
  twin.sensors[sensor]?.value

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b)
