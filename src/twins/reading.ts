/** A sensor value as devices send it. */
export type SensorValue = number | boolean | string | null

/**
 * One reading after ingest has checked it. `time` is the time the twin orders by: the device's
 * clock when it can be trusted, the receive time when the device sent none or one far in the future.
 */
export interface Reading {
  time: number
  /** The device's own clock as sent (epoch ms), null when the device sent no `ts`. */
  deviceTime: number | null
  receivedAt: number
  seq: number | null
  values: Record<string, SensorValue>
  /** True when `deviceTime` was too far ahead of `receivedAt` (or before 2000) to be trusted. */
  clockSkewed: boolean
}

/** A device's online report: its retained status message, or its last will when it drops. */
export interface StatusReport {
  online: boolean
  receivedAt: number
}

/** How far ahead of the receive time a device clock may run before it is not trusted. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000

/**
 * A device time before this is a clock that was never set (epoch 0 after a reset, say), not a
 * reading from 1970: it is flagged and ordered by receive time, like one far in the future.
 */
export const EARLIEST_TRUSTED_TIME = Date.parse('2000-01-01T00:00:00Z')

export function toReading(
  raw: { ts?: number | undefined; seq?: number | undefined; values: Record<string, SensorValue> },
  receivedAt: number,
  maxClockSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS,
): Reading {
  const deviceTime = raw.ts ?? null
  const clockSkewed =
    deviceTime !== null &&
    (deviceTime - receivedAt > maxClockSkewMs || deviceTime < EARLIEST_TRUSTED_TIME)
  return {
    time: deviceTime === null || clockSkewed ? receivedAt : deviceTime,
    deviceTime,
    receivedAt,
    seq: raw.seq ?? null,
    values: raw.values,
    clockSkewed,
  }
}

/** Key that identifies a re-delivery of the same message: same `seq` and same device time. */
export function redeliveryKey(reading: Reading): string | null {
  return reading.seq === null ? null : `${reading.seq}@${reading.deviceTime ?? ''}`
}
