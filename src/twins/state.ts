import type { Command } from './commands.ts'
import type { Health, HealthReport, SensorTrack } from './health/types.ts'
import type { SensorValue } from './reading.ts'

// The twin's state as data: what the workflow holds, queries return and Postgres snapshots. A
// leaf of the core: the modules that change the state import it, and it imports none of them.

export interface SensorState {
  value: SensorValue
  /** Time the twin ordered this value by (device clock when trusted, else receive time). */
  time: number
  /** The device's own clock for this value, as sent; null when it sent none. */
  deviceTime: number | null
  receivedAt: number
  /** When the value last changed (ordering time of the reading that changed it). */
  changedAt: number
}

export interface ClockSkew {
  deviceTime: number
  receivedAt: number
}

/** The twin's whole state: what the workflow holds, queries return and Postgres snapshots. */
export interface TwinState {
  deviceId: string
  /** Increases on every change a reader sees (see step.ts): values, online, health, desired. */
  version: number
  /** Increases on every step the workflow applies, changed or not: orders snapshot writes. */
  revision: number
  online: boolean
  lastSeenAt: number | null
  sensors: Record<string, SensorState>
  /** Set while the device's clock runs too far ahead to be trusted; the last such reading. */
  clockSkew: ClockSkew | null
  /** Re-delivery keys of recent messages (`seq@ts`), oldest first. */
  recentKeys: string[]
  /** Ordering and receive time of the newest reading: relates device time to wall time. */
  clock: { time: number; receivedAt: number } | null
  modelId: string | null
  /** Worst sensor health, or SILENT when the device went quiet (see health/evaluate.ts). */
  health: Health
  healthReason: string | null
  sensorHealth: Record<string, HealthReport>
  /** What the health detectors remember of each sensor between batches. */
  tracks: Record<string, SensorTrack>
  /** What the model's aggregate rules remember of their sensors (see aggregates.ts). */
  aggregates: AggregateWindows
  desired: DesiredDocument | null
  /** Open commands and the newest finished ones (see commands.ts). */
  commands: Command[]
  /** The latest reservation, active or ended; null when there never was one. */
  reservation: Reservation | null
  /** The last batch of the device's inbox (see inbox.ts) this twin has applied; 0 for none. */
  inboxSeq: number
  /** MQTT messages this twin has applied, re-deliveries included: for operators and audits. */
  appliedMessages: number
}

/** What the service wants the device to be: sent retained on `devices/{id}/desired`. */
export interface DesiredDocument {
  /** Increases on every accepted change; `setDesired(expectedVersion)` compares against it. */
  version: number
  state: Record<string, unknown>
}

/**
 * A device held for one holder for a while (a charge point kept for a driver). At most one is
 * ACTIVE per twin; it ends RELEASED by `release`, or EXPIRED on the twin's durable timer.
 */
export interface Reservation {
  id: string
  deviceId: string
  holder: string
  status: 'ACTIVE' | 'RELEASED' | 'EXPIRED'
  createdAt: number
  expiresAt: number
  releasedAt: number | null
  /** Increases on every change: orders the writes of its record. */
  revision: number
}

/** How long the sensor held numeric values within one step of a window, and which. */
export interface AggregateBucket {
  /** Start of the step (ordering time, a multiple of the step). */
  start: number
  /** Milliseconds of numeric value within the step, and their integral (value × ms). */
  ms: number
  sum: number
  min: number
  max: number
}

/**
 * What a twin remembers for one sensor and window length: the time it spent at each value, in
 * at most STEPS_PER_WINDOW + 1 buckets whatever the device's rate, and the value in force since
 * its last change (not yet in a bucket). JSON, carried over continue-as-new with the twin.
 */
export interface AggregateWindow {
  buckets: AggregateBucket[]
  /** The value in force (null when it is not a number) and since when. */
  value: number | null
  since: number
  /** Rules of this window whose alert is raised (`ruleKey`), for hysteresis. */
  raised: string[]
}

export type AggregateWindows = Record<string, AggregateWindow>
