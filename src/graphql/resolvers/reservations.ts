import { eq } from 'drizzle-orm'
import { reservations } from '../../db/schema.ts'
import { extendReservationUpdate, releaseUpdate, reserveUpdate } from '../../workflows/messages.ts'
import type { ApiContext } from '../context.ts'
import { apiError } from '../errors.ts'
import { requireRole } from '../roles.ts'
import { updateTwin } from './twin-update.ts'
import { UUID } from './uuid.ts'

async function findReservation(ctx: ApiContext, id: string) {
  if (!UUID.test(id)) return null
  const [row] = await ctx.db.select().from(reservations).where(eq(reservations.id, id))
  return row ?? null
}

/** The device a reservation holds, to find its twin; RESERVATION_NOT_FOUND otherwise. */
async function deviceOf(ctx: ApiContext, id: string): Promise<string> {
  const row = await findReservation(ctx, id)
  if (!row) throw apiError('RESERVATION_NOT_FOUND', `no reservation "${id}"`)
  return row.deviceId
}

export const reservationQueries = {
  reservation: (_: unknown, args: { id: string }, ctx: ApiContext) => findReservation(ctx, args.id),
}

export const reservationMutations = {
  /** Twenty callers at once: the twin applies them one by one, so exactly one wins. */
  async reserve(
    _: unknown,
    args: { deviceId: string; holder: string; durationSeconds: number },
    ctx: ApiContext,
  ) {
    requireRole(ctx, 'operator')
    return updateTwin(ctx, args.deviceId, reserveUpdate, [
      { holder: args.holder, durationSeconds: args.durationSeconds },
    ])
  },

  async extendReservation(
    _: unknown,
    args: { id: string; durationSeconds: number },
    ctx: ApiContext,
  ) {
    requireRole(ctx, 'operator')
    return updateTwin(ctx, await deviceOf(ctx, args.id), extendReservationUpdate, [args])
  },

  async release(_: unknown, args: { id: string }, ctx: ApiContext) {
    requireRole(ctx, 'operator')
    return updateTwin(ctx, await deviceOf(ctx, args.id), releaseUpdate, [args.id])
  },
}
