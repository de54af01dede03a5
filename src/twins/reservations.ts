import type { DeviceModel } from './model.ts'
import type { Reservation, TwinState } from './state.ts'

export type ReservationRefusal = {
  code:
    | 'BAD_USER_INPUT'
    | 'DEVICE_UNAVAILABLE'
    | 'ALREADY_RESERVED'
    | 'NOT_RESERVATION_HOLDER'
    | 'RESERVATION_NOT_FOUND'
  message: string
}

/** How long a reservation may run, in seconds, at once or extended. */
export const RESERVATION_SECONDS = { min: 1, max: 7 * 24 * 3600 }
/** `freshnessSeconds` of a device with no model (the default). */
export const DEFAULT_FRESHNESS_SECONDS = 120

/** The twin's reservation if it is active at `now`. */
export const activeReservation = (twin: TwinState, now: number): Reservation | null =>
  twin.reservation?.status === 'ACTIVE' && now < twin.reservation.expiresAt
    ? twin.reservation
    : null

function refuseDuration(durationSeconds: number): ReservationRefusal | null {
  const { min, max } = RESERVATION_SECONDS
  if (Number.isInteger(durationSeconds) && durationSeconds >= min && durationSeconds <= max) {
    return null
  }
  return {
    code: 'BAD_USER_INPUT',
    message: `durationSeconds must be a whole number from ${min} to ${max}, not ${durationSeconds}`,
  }
}

/**
 * Why the device cannot be reserved now, or null. It must be online, have sent a message within
 * its model's `freshnessSeconds`, be neither SILENT nor FLAPPING, and hold no active reservation.
 */
export function refuseReservation(
  twin: TwinState,
  model: DeviceModel | null,
  holder: string,
  durationSeconds: number,
  now: number,
): ReservationRefusal | null {
  return (
    refuseReservationRequest(twin, holder, durationSeconds, now) ??
    refuseUnavailable(twin, model, now)
  )
}

/**
 * What is wrong with a reservation request whatever the device said lately: its arguments, or
 * an active reservation. Judged before the twin reads its inbox (see `refuseUnavailable`).
 */
export function refuseReservationRequest(
  twin: TwinState,
  holder: string,
  durationSeconds: number,
  now: number,
): ReservationRefusal | null {
  if (holder.trim().length === 0 || holder.length > 200) {
    return { code: 'BAD_USER_INPUT', message: 'holder must be 1-200 characters' }
  }
  const badDuration = refuseDuration(durationSeconds)
  if (badDuration) return badDuration
  const active = activeReservation(twin, now)
  if (active) {
    return {
      code: 'ALREADY_RESERVED',
      message: `reserved by ${active.holder} until ${new Date(active.expiresAt).toISOString()}`,
    }
  }
  return null
}

/**
 * Why what the device said lately keeps it from being reserved: offline, no message within its
 * model's `freshnessSeconds`, SILENT or FLAPPING. Judged on fresh data only: the twin reads its
 * inbox first, since routine readings wait there for its checkpoint.
 */
function refuseUnavailable(
  twin: TwinState,
  model: DeviceModel | null,
  now: number,
): ReservationRefusal | null {
  const unavailable = (why: string): ReservationRefusal => ({
    code: 'DEVICE_UNAVAILABLE',
    message: `device ${twin.deviceId} cannot be reserved: ${why}`,
  })
  if (!twin.online) return unavailable('it is offline')
  const freshness = model?.freshnessSeconds ?? DEFAULT_FRESHNESS_SECONDS
  if (twin.lastSeenAt === null) return unavailable('it has sent no message yet')
  const quiet = Math.floor((now - twin.lastSeenAt) / 1000)
  if (quiet > freshness) {
    return unavailable(`its last message was ${quiet} s ago (needs one within ${freshness} s)`)
  }
  if (twin.health === 'SILENT' || twin.health === 'FLAPPING') {
    return unavailable(`it is ${twin.health}${twin.healthReason ? ` (${twin.healthReason})` : ''}`)
  }
  return null
}

export function reserve(
  twin: TwinState,
  id: string,
  holder: string,
  durationSeconds: number,
  now: number,
): TwinState {
  const reservation: Reservation = {
    id,
    deviceId: twin.deviceId,
    holder,
    status: 'ACTIVE',
    createdAt: now,
    expiresAt: now + durationSeconds * 1000,
    releasedAt: null,
    revision: 1,
  }
  return { ...twin, reservation }
}

/** Why reservation `id` cannot be extended or released now, or null. */
export function refuseReservationChange(
  twin: TwinState,
  id: string,
  now: number,
  durationSeconds?: number,
): ReservationRefusal | null {
  if (twin.reservation?.id !== id) {
    return { code: 'RESERVATION_NOT_FOUND', message: `no reservation ${id} on ${twin.deviceId}` }
  }
  if (!activeReservation(twin, now)) {
    return {
      code: 'BAD_USER_INPUT',
      message: `reservation ${id} has already ended (${twin.reservation.status === 'ACTIVE' ? 'EXPIRED' : twin.reservation.status})`,
    }
  }
  return durationSeconds === undefined ? null : refuseDuration(durationSeconds)
}

/** Extends the active reservation to `durationSeconds` from now. */
export function extendReservation(
  twin: TwinState,
  durationSeconds: number,
  now: number,
): TwinState {
  const r = twin.reservation
  if (!r) return twin
  return {
    ...twin,
    reservation: { ...r, expiresAt: now + durationSeconds * 1000, revision: r.revision + 1 },
  }
}

export function releaseReservation(twin: TwinState, now: number): TwinState {
  const r = twin.reservation
  if (!r) return twin
  return {
    ...twin,
    reservation: { ...r, status: 'RELEASED', releasedAt: now, revision: r.revision + 1 },
  }
}

/** Ends an active reservation whose time is up; the workflow's timer calls this on time. */
export function expireReservation(twin: TwinState, now: number): TwinState {
  const r = twin.reservation
  if (r?.status !== 'ACTIVE' || now < r.expiresAt) return twin
  return { ...twin, reservation: { ...r, status: 'EXPIRED', revision: r.revision + 1 } }
}

/**
 * While the device is reserved, a command needs the reservation's id.
 */
export function refuseCommandHolder(
  twin: TwinState,
  reservationId: string | null | undefined,
  now: number,
): ReservationRefusal | null {
  const active = activeReservation(twin, now)
  if (!active || active.id === reservationId) return null
  return {
    code: 'NOT_RESERVATION_HOLDER',
    message: reservationId
      ? `reservation ${reservationId} is not the device's active one: it is reserved by ${active.holder}`
      : `device is reserved by ${active.holder}: pass that reservation's id as reservationId`,
  }
}
