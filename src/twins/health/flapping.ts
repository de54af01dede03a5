import type { FlappingSpec } from '../model.ts'
import { type HealthReport, OK, type SensorTrack, secondsBetween } from './types.ts'

export interface FlappingVerdict {
  report: HealthReport
  track: SensorTrack
  /** Device time at which FLAPPING ends if nothing changes; null when not flapping. */
  quietUntil: number | null
}

/**
 * FLAPPING when a change brings the changes within `windowSeconds` above `maxChanges`; OK again
 * only once `quietSeconds` pass without a change (hysteresis). Changes that belonged to an
 * ended episode cannot start a new one: only a newer change can.
 */
export function flapping(
  spec: FlappingSpec,
  track: SensorTrack,
  deviceNow: number,
): FlappingVerdict {
  const last = track.changes.at(-1)
  if (last === undefined) return { report: OK, track, quietUntil: null }
  const windowMs = spec.windowSeconds * 1000
  const burst = track.changes.filter((t) => t > last - windowMs).length
  let { flappingSince, settledAt } = track
  if (
    flappingSince === null &&
    burst > spec.maxChanges &&
    (settledAt === null || last > settledAt)
  ) {
    flappingSince = last
  }
  const quietUntil = last + spec.quietSeconds * 1000
  if (flappingSince !== null && deviceNow >= quietUntil) {
    flappingSince = null
    settledAt = last
  }
  const next = { ...track, flappingSince, settledAt }
  if (flappingSince === null) return { report: OK, track: next, quietUntil: null }
  const quiet = secondsBetween(last, deviceNow)
  const reason =
    `${burst} changes in ${spec.windowSeconds} s (limit ${spec.maxChanges})` +
    (quiet >= 1 ? `; quiet for ${quiet} s of ${spec.quietSeconds} s` : '')
  return { report: { health: 'FLAPPING', reason }, track: next, quietUntil }
}
