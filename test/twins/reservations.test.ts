import { describe, expect, it } from 'vitest'
import {
  activeReservation,
  expireReservation,
  extendReservation,
  refuseCommandHolder,
  refuseReservation,
  refuseReservationChange,
  releaseReservation,
  reserve,
} from '../../src/twins/reservations.ts'
import type { TwinState } from '../../src/twins/state.ts'
import { newTwin } from '../../src/twins/twin.ts'

const T0 = 1_763_812_800_000
const online = (overrides: Partial<TwinState> = {}): TwinState => ({
  ...newTwin('cp-1'),
  online: true,
  lastSeenAt: T0 - 10_000,
  health: 'OK',
  healthReason: null,
  ...overrides,
})

describe('reservations', () => {
  it('reserves an online, fresh, healthy device once', () => {
    expect(refuseReservation(online(), null, 'ann', 60, T0)).toBeNull()
    const held = reserve(online(), 'r-1', 'ann', 60, T0)
    expect(activeReservation(held, T0)).toMatchObject({ holder: 'ann', expiresAt: T0 + 60_000 })
    expect(refuseReservation(held, null, 'bob', 60, T0)).toMatchObject({
      code: 'ALREADY_RESERVED',
      message: expect.stringContaining('ann'),
    })
  })

  it('says which condition a device fails', () => {
    const why = (twin: TwinState, freshnessSeconds = 120) =>
      refuseReservation(
        twin,
        { freshnessSeconds } as Parameters<typeof refuseReservation>[1],
        'ann',
        60,
        T0,
      )
    expect(why(online({ online: false }))?.message).toMatch(/offline/)
    expect(why(online({ lastSeenAt: T0 - 200_000 }))?.message).toMatch(
      /last message was 200 s ago \(needs one within 120 s\)/,
    )
    expect(why(online({ lastSeenAt: T0 - 200_000 }), 300)).toBeNull()
    expect(why(online({ health: 'FLAPPING', healthReason: 'cable: 9 changes' }))?.message).toMatch(
      /FLAPPING \(cable: 9 changes\)/,
    )
    expect(why(online({ health: 'SILENT' }))?.code).toBe('DEVICE_UNAVAILABLE')
    expect(why(online({ health: 'STUCK' }))).toBeNull()
    expect(refuseReservation(online(), null, 'ann', 0, T0)?.code).toBe('BAD_USER_INPUT')
    expect(refuseReservation(online(), null, ' ', 60, T0)?.code).toBe('BAD_USER_INPUT')
  })

  it('expires on time, extends and releases only while active', () => {
    const held = reserve(online(), 'r-1', 'ann', 60, T0)
    expect(expireReservation(held, T0 + 59_999)).toBe(held)
    const expired = expireReservation(held, T0 + 60_000)
    expect(expired.reservation?.status).toBe('EXPIRED')
    expect(refuseReservationChange(expired, 'r-1', T0 + 60_000)?.message).toMatch(
      /ended \(EXPIRED\)/,
    )
    expect(refuseReservationChange(held, 'r-2', T0)?.code).toBe('RESERVATION_NOT_FOUND')
    const longer = extendReservation(held, 600, T0 + 30_000)
    expect(longer.reservation?.expiresAt).toBe(T0 + 630_000)
    const released = releaseReservation(longer, T0 + 40_000)
    expect(released.reservation).toMatchObject({ status: 'RELEASED', releasedAt: T0 + 40_000 })
    expect(activeReservation(released, T0 + 40_000)).toBeNull()
  })

  it('lets only the holder’s reservation id send commands while reserved', () => {
    const held = reserve(online(), 'r-1', 'ann', 60, T0)
    expect(refuseCommandHolder(held, undefined, T0)?.code).toBe('NOT_RESERVATION_HOLDER')
    expect(refuseCommandHolder(held, 'r-2', T0)?.code).toBe('NOT_RESERVATION_HOLDER')
    expect(refuseCommandHolder(held, 'r-1', T0)).toBeNull()
    expect(refuseCommandHolder(online(), undefined, T0)).toBeNull()
  })
})
