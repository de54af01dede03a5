import type { Health } from './health/index.ts'
import type { TwinState } from './state.ts'

/**
 * Where an alert's condition stands now, for one subject: a sensor, or the device itself
 * (sensor null, for SILENT). `kind` null means the subject is back to OK.
 */
export interface AlertChange {
  deviceId: string
  sensor: string | null
  kind: Health | null
  message: string | null
  at: number
}

/** Healths that are worth an alert: UNKNOWN means "not seen yet", not "broken". */
const alarming = (health: Health | undefined): health is Health =>
  health !== undefined && health !== 'OK' && health !== 'UNKNOWN'

/**
 * How alert conditions moved between two states of a twin: one change per subject whose
 * alarming health changed. Storing them raises an alert when a subject leaves OK, clears it
 * when the subject returns, and never raises the same alert twice while its condition lasts.
 */
export function alertChanges(before: TwinState, after: TwinState, at: number): AlertChange[] {
  const out: AlertChange[] = []
  const deviceHealth = (t: TwinState) => (t.health === 'SILENT' ? t.health : undefined)
  const subjects: [string | null, Health | undefined, Health | undefined, string | null][] = [
    [null, deviceHealth(before), deviceHealth(after), after.healthReason],
  ]
  for (const name of new Set([
    ...Object.keys(before.sensorHealth),
    ...Object.keys(after.sensorHealth),
  ])) {
    const was = before.sensorHealth[name]
    const is = after.sensorHealth[name]
    subjects.push([name, was?.health, is?.health, is?.reason ?? null])
  }
  for (const [sensor, was, is, reason] of subjects) {
    const from = alarming(was) ? was : null
    const to = alarming(is) ? is : null
    if (from === to) continue
    out.push({
      deviceId: after.deviceId,
      sensor,
      kind: to,
      message: to ? (reason ?? to) : null,
      at,
    })
  }
  return out
}
