import type { StepResult } from './report.ts'

/** Issue 12's targets for the seed fleet on this machine. */
export const TARGETS = {
  telemetryP99Ms: 100,
  /** Live reported state: publish → live twinChanged, and publish → a query shows it. */
  liveP99Ms: 1000,
  /** Publish of the triggering reading → the alert on the subscription. */
  alertP99Ms: 5000,
  /** sendCommand → SUCCEEDED, to devices that answer at once, at the fleet's load. */
  commandP99Ms: 1000,
}

/** ✓ when `measured` meets `limit`, ✗ when not, – when nothing was measured. */
export const mark = (measured: number | null | undefined, limit: number) =>
  measured == null ? '–' : measured <= limit ? '✓' : '✗'

/**
 * A ramp step is good with 0 lost, live state within a second (both ways it is read, when
 * measured) and twin lag p99 within the configured maximum: the knee is the last good step.
 */
export function stepIsGood(step: StepResult, maxLagMs: number) {
  const within = (ms: number | null, limit: number) => ms === null || ms <= limit
  return (
    step.lost === 0 &&
    step.liveEventMs.count > 0 &&
    within(step.liveEventMs.p99, TARGETS.liveP99Ms) &&
    within(step.liveQueryMs.p99, TARGETS.liveP99Ms) &&
    within(step.lag.p99, maxLagMs)
  )
}
