import type { TwinBatch } from './batch.ts'
import { stuck } from './health/value-checks.ts'
import type { LiveState } from './live.ts'
import type { DeviceModel, SensorSpec } from './model.ts'
import type { Reading, SensorValue } from './reading.ts'
import { applyValue, type SensorState, type TwinState } from './twin.ts'

/** What ingest knows of a twin's applied judgement: the sensors it holds unhealthy. */
export interface AppliedHealth {
  /** `unhealthySensors` of the twin's last written state. */
  unhealthy: readonly string[]
}

/** Sensors whose health is neither OK nor UNKNOWN: a change of their value may clear it. */
export const unhealthySensors = (twin: Pick<TwinState, 'sensorHealth'>): string[] =>
  Object.entries(twin.sensorHealth)
    .filter(([, report]) => report.health !== 'OK' && report.health !== 'UNKNOWN')
    .map(([name]) => name)

/**
 * Whether a batch may change what the twin's workflow decides (health, alerts, commands), so
 * that its twin should apply it now rather than at its next checkpoint (see the README's "Two
 * speeds of a twin"). Urgent:
 * - the device's first reading, a status report or an answer to a command;
 * - a message after a silence its model calls SILENT (the device's, or one sensor's);
 * - a discrete value (boolean, enum, string, null) that differs from the live one, or a sensor
 *   not seen before;
 * - a number that crosses its model's range, into it or out of it, or past an aggregate rule's
 *   bound (or lies beyond one);
 * - a number that becomes STUCK by this reading, or moves again after being stuck that long;
 * - a change of a sensor that a consistency rule judges while the sensor it requires does not
 *   hold the required value now;
 * - a changed value of a sensor the twin holds unhealthy (the change may clear it).
 * Anything else, a number moving within its range, is routine: apps see it live at once, and
 * the twin folds it in at its checkpoint. Judged against the live state before the batch,
 * reading by reading, and conservatively: what could flip a verdict counts as urgent.
 */
export function isUrgent(
  live: LiveState | null,
  batch: TwinBatch,
  model: DeviceModel | null,
  applied: AppliedHealth = { unhealthy: [] },
) {
  if (!live || live.lastSeenAt === null) return true
  if (batch.statuses.length > 0 || (batch.acks?.length ?? 0) > 0) return true
  const firstArrival = batch.readings.reduce((t, r) => Math.min(t, r.receivedAt), Infinity)
  const quietMs = firstArrival === Infinity ? 0 : firstArrival - live.lastSeenAt
  if (model && quietMs >= model.silentAfterSeconds * 1000) return true
  const specs = new Map(model?.sensors.map((s) => [s.name, s]))
  const unhealthy = new Set(applied.unhealthy)
  const sensors = new Map(Object.entries(live.sensors))
  for (const reading of [...batch.readings].sort((a, b) => a.time - b.time)) {
    for (const [name, value] of Object.entries(reading.values)) {
      const current = sensors.get(name)
      if (!current) return true
      const next = applyValue(current, value, reading)
      // A late or repeated reading changes nothing the twin judges.
      if (next === current) continue
      const spec = specs.get(name)
      const changed = next.value !== current.value
      if (changed && unhealthy.has(name)) return true
      if (spec && endsSensorSilence(spec, current, reading)) return true
      if (crosses(current.value, next.value, spec)) return true
      if (spec && stuck(spec, current).health !== stuck(spec, next).health) return true
      if (changed && mayBeImplausible(name, model, sensors)) return true
      if (beyondAggregateBound(name, next.value, model)) return true
      sensors.set(name, next)
    }
  }
  return false
}

function endsSensorSilence(spec: SensorSpec, current: SensorState, reading: Reading) {
  const limit = spec.silentAfterSeconds
  return limit != null && reading.receivedAt - current.receivedAt >= limit * 1000
}

function crosses(before: SensorValue, after: SensorValue, spec: SensorSpec | undefined) {
  if (typeof before !== 'number' || typeof after !== 'number') return before !== after
  if (spec && spec.kind !== 'NUMBER') return before !== after
  return inRange(before, spec) !== inRange(after, spec)
}

const inRange = (value: number, spec: SensorSpec | undefined) =>
  (spec?.min == null || value >= spec.min) && (spec?.max == null || value <= spec.max)

/** A rule judges changes of `sensor`, and what it requires is not there now (see consistency.ts). */
function mayBeImplausible(
  sensor: string,
  model: DeviceModel | null,
  sensors: ReadonlyMap<string, SensorState>,
) {
  return (model?.rules ?? []).some(
    (r) => r.sensor === sensor && sensors.get(r.requires)?.value !== r.equals,
  )
}

/** An aggregate's statistic can pass a bound only while values lie beyond it (aggregates.ts). */
function beyondAggregateBound(sensor: string, value: SensorValue, model: DeviceModel | null) {
  if (typeof value !== 'number') return false
  return (model?.aggregates ?? []).some(
    (r) =>
      r.sensor === sensor &&
      ((r.above != null && value > r.above) || (r.below != null && value < r.below)),
  )
}
