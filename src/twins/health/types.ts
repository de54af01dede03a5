import type { SensorValue } from '../reading.ts'

export const HEALTHS = [
  'OK',
  'UNKNOWN',
  'FLAPPING',
  'STUCK',
  'OUT_OF_RANGE',
  'SILENT',
  'INCONSISTENT',
] as const
export type Health = (typeof HEALTHS)[number]

/** Worst first: the order in which a twin's health is the worst of its sensors'. */
export const SEVERITY: readonly Health[] = [
  'SILENT',
  'FLAPPING',
  'INCONSISTENT',
  'STUCK',
  'OUT_OF_RANGE',
  'UNKNOWN',
  'OK',
]

export interface HealthReport {
  health: Health
  /** Why, in words an operator understands; null when OK. */
  reason: string | null
}

export const OK: HealthReport = { health: 'OK', reason: null }

/** The worse of two reports (the first on a tie). */
export const worse = (a: HealthReport, b: HealthReport): HealthReport =>
  SEVERITY.indexOf(b.health) < SEVERITY.indexOf(a.health) ? b : a

/** What the detectors remember of one sensor between batches (JSON, bounded). */
export interface SensorTrack {
  /** Ordering times of recent value changes, oldest first, pruned to what the model needs. */
  changes: number[]
  /** Recent values with the time each began, oldest first; the last is always kept. */
  values: { time: number; value: SensorValue }[]
  /** Set while FLAPPING: ordering time of the change that started it. */
  flappingSince: number | null
  /** Time of the last change of a flapping episode that ended: only newer changes start one. */
  settledAt: number | null
  /** Set when the last change broke a consistency rule; cleared by the next plausible change. */
  inconsistent: string | null
}

export const emptyTrack = (): SensorTrack => ({
  changes: [],
  values: [],
  flappingSince: null,
  settledAt: null,
  inconsistent: null,
})

/** Seconds, rounded, for reasons. */
export const secondsBetween = (from: number, to: number) => Math.round((to - from) / 1000)
