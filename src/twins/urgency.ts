import type { TwinBatch } from './batch.ts'
import type { Health } from './health/types.ts'
import { stuck } from './health/value-checks.ts'
import type { LiveState } from './live.ts'
import type { DeviceModel, SensorSpec } from './model.ts'
import type { Reading, SensorValue } from './reading.ts'
import type { SensorState, TwinState } from './state.ts'
import { applyValue } from './twin.ts'

/**
 * What ingest knows of a twin's applied judgement: the health of each sensor its last written
 * state holds neither OK nor UNKNOWN.
 */
export interface AppliedHealth {
  sensors: Readonly<Record<string, Health>>
}

/** The sensors a twin holds neither OK nor UNKNOWN, with their health: what ingest judges by. */
export const heldHealth = (twin: Pick<TwinState, 'sensorHealth'>): Record<string, Health> =>
  Object.fromEntries(
    Object.entries(twin.sensorHealth)
      .filter(([, report]) => report.health !== 'OK' && report.health !== 'UNKNOWN')
      .map(([name, report]) => [name, report.health]),
  )

/**
 * Whether a batch may change what the twin's workflow decides (health, alerts, commands), so
 * that its twin should apply it now rather than at its next checkpoint (see docs/architecture.md, "Two
 * speeds of a twin"). Urgent:
 * - the device's first reading, a status report or an answer to a command;
 * - a message after a silence its model calls SILENT (the device's, or one sensor's);
 * - a sensor not seen before;
 * - a number that crosses its model's range, into it or out of it, or past an aggregate rule's
 *   bound (or lies beyond one);
 * - a changed value of a sensor its model watches for flapping, unless the twin holds it
 *   FLAPPING already (a change prolongs an episode; only quiet ends it, on the twin's timer);
 * - a number that becomes STUCK by this reading, or moves again after being stuck that long;
 * - a change of a sensor that a consistency rule judges while the sensor it requires does not
 *   hold the required value now;
 * - a changed value of a sensor the twin holds INCONSISTENT, or OUT_OF_RANGE by an aggregate
 *   rule: the change may clear it (a range's OUT_OF_RANGE clears only by crossing back).
 * Anything else is routine: a number moving within its range, a discrete value no verdict
 * watches (a door whose changes only a rule about another sensor looks back on), a flapping
 * sensor's next toggle. Apps see it live at once, and the twin folds it in at its checkpoint.
 * Judged against the live state before the batch, reading by reading, and conservatively: what
 * could flip a verdict counts as urgent.
 */
export function isUrgent(
  live: LiveState | null,
  batch: TwinBatch,
  model: DeviceModel | null,
  applied: AppliedHealth = { sensors: {} },
) {
  if (!live || live.lastSeenAt === null) return true
  if (batch.statuses.length > 0 || (batch.acks?.length ?? 0) > 0) return true
  const firstArrival = batch.readings.reduce((t, r) => Math.min(t, r.receivedAt), Infinity)
  const quietMs = firstArrival === Infinity ? 0 : firstArrival - live.lastSeenAt
  if (model && quietMs >= model.silentAfterSeconds * 1000) return true
  const specs = new Map(model?.sensors.map((s) => [s.name, s]))
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
      const held = applied.sensors[name]
      if (changed && mayClear(name, held, model)) return true
      if (spec && endsSensorSilence(spec, current, reading)) return true
      if (spec && crossesRange(current.value, next.value, spec)) return true
      if (changed && spec?.flapping && held !== 'FLAPPING') return true
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

/** Whether a value change may clear what the twin holds (see `isUrgent`). */
function mayClear(sensor: string, held: Health | undefined, model: DeviceModel | null) {
  if (held === 'INCONSISTENT') return true
  return held === 'OUT_OF_RANGE' && (model?.aggregates ?? []).some((r) => r.sensor === sensor)
}

/** Into the model's range or out of it: what `outOfRange` judges (only numbers are judged). */
const crossesRange = (before: SensorValue, after: SensorValue, spec: SensorSpec) =>
  inRange(before, spec) !== inRange(after, spec)

const inRange = (value: SensorValue, spec: SensorSpec) =>
  typeof value !== 'number' ||
  ((spec.min == null || value >= spec.min) && (spec.max == null || value <= spec.max))

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
