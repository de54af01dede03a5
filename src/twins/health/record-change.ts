import type { DeviceModel } from '../model.ts'
import type { SensorValue } from '../reading.ts'
import { implausibleChange } from './consistency.ts'
import { emptyTrack, type SensorTrack } from './types.ts'

/** However long the model's windows, a sensor's track never holds more than this. */
export const TRACK_LIMIT = 1000

/** How far back a sensor's changes matter: its flapping window, or rules that look at it. */
function horizonMs(sensor: string, model: DeviceModel | null): number {
  const flapping = model?.sensors.find((s) => s.name === sensor)?.flapping?.windowSeconds ?? 0
  const rules = (model?.rules ?? [])
    .filter((r) => r.requires === sensor)
    .map((r) => r.withinSeconds)
  return Math.max(flapping, ...rules, 0) * 1000
}

/**
 * Notes a change of `sensor`'s last-known value (or its first value) at ordering time `time`.
 * Called in device-time order; judges the model's consistency rules for a change (not for the
 * first value).
 */
export function recordChange(
  tracks: Record<string, SensorTrack>,
  sensor: string,
  time: number,
  value: SensorValue,
  model: DeviceModel | null,
): Record<string, SensorTrack> {
  const track = tracks[sensor] ?? emptyTrack()
  const horizon = time - horizonMs(sensor, model)
  const changes = [...track.changes, time].filter((t) => t > horizon).slice(-TRACK_LIMIT)
  const values = [...track.values, { time, value }]
  // Keep the value in force when the horizon opens: rules ask what it was then.
  const firstInside = values.findIndex((v) => v.time > horizon)
  const kept = values
    .slice(Math.max(0, (firstInside === -1 ? values.length : firstInside) - 1))
    .slice(-TRACK_LIMIT)
  // A sensor's first value says what it is, not that it changed: a charge point that comes
  // online with its cable plugged in and its door shut is not lying.
  const firstValue = track.values.length === 0
  const rules = firstValue ? [] : (model?.rules ?? []).filter((r) => r.sensor === sensor)
  const reasons = rules
    .map((r) => implausibleChange(r, time, tracks[r.requires]))
    .filter((r) => r !== null)
  return {
    ...tracks,
    [sensor]: { ...track, changes, values: kept, inconsistent: reasons[0] ?? null },
  }
}
