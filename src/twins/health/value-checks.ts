import type { SensorSpec } from '../model.ts'
import type { SensorValue } from '../reading.ts'
import type { SensorState } from '../state.ts'
import { type HealthReport, OK, secondsBetween } from './types.ts'

/** OUT_OF_RANGE when a number lies outside the model's physical range. */
export function outOfRange(spec: SensorSpec, value: SensorValue): HealthReport {
  if (typeof value !== 'number') return OK
  const unit = spec.unit ? ` ${spec.unit}` : ''
  if (spec.min != null && value < spec.min) {
    return { health: 'OUT_OF_RANGE', reason: `value ${value} below min ${spec.min}${unit}` }
  }
  if (spec.max != null && value > spec.max) {
    return { health: 'OUT_OF_RANGE', reason: `value ${value} above max ${spec.max}${unit}` }
  }
  return OK
}

/**
 * STUCK when a number has not changed for `stuckAfterSeconds` while the device kept reporting
 * it: measured between reports, so a device that stopped reporting is SILENT, not STUCK.
 */
export function stuck(spec: SensorSpec, sensor: SensorState): HealthReport {
  const limit = spec.stuckAfterSeconds
  if (spec.kind !== 'NUMBER' || limit == null) return OK
  const unchanged = sensor.time - sensor.changedAt
  if (unchanged < limit * 1000) return OK
  const seconds = secondsBetween(sensor.changedAt, sensor.time)
  return {
    health: 'STUCK',
    reason: `unchanged at ${JSON.stringify(sensor.value)} for ${seconds} s while reporting (limit ${limit} s)`,
  }
}

/** SILENT when the sensor has been missing from messages for its own limit (wall clock). */
export function silentSensor(
  spec: SensorSpec,
  sensor: SensorState | undefined,
  wallNow: number,
): { report: HealthReport; silentAt: number | null } {
  const limit = spec.silentAfterSeconds
  if (limit == null || !sensor) return { report: OK, silentAt: null }
  const silentAt = sensor.receivedAt + limit * 1000
  if (wallNow < silentAt) return { report: OK, silentAt }
  const seconds = secondsBetween(sensor.receivedAt, wallNow)
  return {
    report: { health: 'SILENT', reason: `not reported for ${seconds} s (limit ${limit} s)` },
    silentAt: null,
  }
}
