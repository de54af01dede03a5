import { judgeAggregates } from '../aggregates.ts'
import type { DeviceModel } from '../model.ts'
import type { AggregateWindows, SensorState } from '../state.ts'
import { flapping } from './flapping.ts'
import {
  type Health,
  type HealthReport,
  OK,
  type SensorTrack,
  secondsBetween,
  worse,
} from './types.ts'
import { outOfRange, silentSensor, stuck } from './value-checks.ts'

export interface HealthInput {
  sensors: Record<string, SensorState>
  tracks: Record<string, SensorTrack>
  /** Absent in twins from before aggregate rules. */
  aggregates?: AggregateWindows
  lastSeenAt: number | null
}

export interface HealthVerdict {
  health: Health
  reason: string | null
  sensors: Record<string, HealthReport>
  tracks: Record<string, SensorTrack>
  aggregates: AggregateWindows
  /** Earliest wall time at which a health can change with no new message; null if none. */
  nextCheckAt: number | null
}

/**
 * Judges a twin by its model. `deviceNow` is the device's present on its own clock (windows of
 * device time); `wallNow` is the service's (silence). A sensor the model does not declare, and
 * every sensor of a twin with no model, is OK: there is nothing to judge it by. A declared
 * sensor that never reported is UNKNOWN, but does not make the twin UNKNOWN once it was seen.
 */
export function evaluateHealth(
  input: HealthInput,
  model: DeviceModel | null,
  clock: { wallNow: number; deviceNow: number },
): HealthVerdict {
  let tracks = input.tracks
  const sensors: Record<string, HealthReport> = {}
  const deadlines: number[] = []
  const declared = model?.sensors ?? []
  const aggregates = judgeAggregates(input.aggregates ?? {}, input.sensors, model)
  for (const name of new Set([...Object.keys(input.sensors), ...declared.map((s) => s.name)])) {
    const spec = declared.find((s) => s.name === name)
    const sensor = input.sensors[name]
    if (!sensor) {
      sensors[name] = { health: 'UNKNOWN', reason: 'never reported' }
      continue
    }
    if (!spec) {
      sensors[name] = OK
      continue
    }
    let report = OK
    const track = tracks[name]
    if (spec.flapping && track) {
      const verdict = flapping(spec.flapping, track, clock.deviceNow)
      tracks = { ...tracks, [name]: verdict.track }
      report = worse(report, verdict.report)
      if (verdict.quietUntil !== null)
        deadlines.push(verdict.quietUntil + (clock.wallNow - clock.deviceNow))
    }
    if (track?.inconsistent)
      report = worse(report, { health: 'INCONSISTENT', reason: track.inconsistent })
    report = worse(report, stuck(spec, sensor))
    report = worse(report, outOfRange(spec, sensor.value))
    report = worse(report, aggregates.reports[name] ?? OK)
    const silent = silentSensor(spec, sensor, clock.wallNow)
    report = worse(report, silent.report)
    if (silent.silentAt !== null) deadlines.push(silent.silentAt)
    sensors[name] = report
  }

  const twin = twinHealth(input, model, sensors, clock.wallNow, deadlines)
  return {
    ...twin,
    sensors,
    tracks,
    aggregates: aggregates.windows,
    nextCheckAt: deadlines.length > 0 ? Math.min(...deadlines) : null,
  }
}

function twinHealth(
  input: HealthInput,
  model: DeviceModel | null,
  sensors: Record<string, HealthReport>,
  wallNow: number,
  deadlines: number[],
): HealthReport {
  if (input.lastSeenAt === null) return { health: 'UNKNOWN', reason: 'never seen' }
  if (model) {
    const silentAt = input.lastSeenAt + model.silentAfterSeconds * 1000
    if (wallNow >= silentAt) {
      const quiet = secondsBetween(input.lastSeenAt, wallNow)
      return {
        health: 'SILENT',
        reason: `no message for ${quiet} s (limit ${model.silentAfterSeconds} s)`,
      }
    }
    deadlines.push(silentAt)
  }
  let worst: HealthReport = OK
  let culprit: string | null = null
  for (const [name, report] of Object.entries(sensors)) {
    if (report.health === 'UNKNOWN' || worse(worst, report) === worst) continue
    worst = report
    culprit = name
  }
  return culprit === null ? OK : { health: worst.health, reason: `${culprit}: ${worst.reason}` }
}
