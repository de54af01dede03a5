import type { TwinBatch } from './batch.ts'
import type { LiveState } from './live.ts'
import type { DeviceModel, SensorSpec } from './model.ts'
import type { SensorValue } from './reading.ts'

/**
 * Whether a batch changes what operators act on, so that its twin should apply it now rather
 * than with its next routine catch-up (see the README's "Two speeds of a twin"):
 * - the device's first reading, a status report or an answer to a command;
 * - a discrete value (boolean, enum, string, null) that differs from the live one, or a sensor
 *   not seen before;
 * - a number that crosses its model's range, into it or out of it.
 * A continuous value moving within its range is routine: it may wait up to the maximum twin lag.
 * Judged against the live state before the batch, reading by reading.
 */
export function isUrgent(live: LiveState | null, batch: TwinBatch, model: DeviceModel | null) {
  if (!live || live.lastSeenAt === null) return true
  if (batch.statuses.length > 0 || (batch.acks?.length ?? 0) > 0) return true
  const specs = new Map(model?.sensors.map((s) => [s.name, s]))
  const current = new Map(Object.entries(live.sensors).map(([name, s]) => [name, s.value]))
  for (const reading of [...batch.readings].sort((a, b) => a.time - b.time)) {
    for (const [name, value] of Object.entries(reading.values)) {
      if (!current.has(name)) return true
      if (crosses(current.get(name) ?? null, value, specs.get(name))) return true
      current.set(name, value)
    }
  }
  return false
}

function crosses(before: SensorValue, after: SensorValue, spec: SensorSpec | undefined) {
  if (typeof before !== 'number' || typeof after !== 'number') return before !== after
  if (spec && spec.kind !== 'NUMBER') return before !== after
  return inRange(before, spec) !== inRange(after, spec)
}

const inRange = (value: number, spec: SensorSpec | undefined) =>
  (spec?.min == null || value >= spec.min) && (spec?.max == null || value <= spec.max)
