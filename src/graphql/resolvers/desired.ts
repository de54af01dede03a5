import { setDesiredUpdate } from '../../workflows/messages.ts'
import type { ApiContext } from '../context.ts'
import { requireRole } from '../roles.ts'
import { updateTwin } from './twin-update.ts'

export const desiredMutations = {
  /** The new twin, or the twin's own refusal: VERSION_CONFLICT, BAD_USER_INPUT. */
  async setDesired(
    _: unknown,
    args: { deviceId: string; patch: Record<string, unknown>; expectedVersion?: number | null },
    ctx: ApiContext,
  ) {
    requireRole(ctx, 'operator')
    return updateTwin(ctx, args.deviceId, setDesiredUpdate, [
      args.patch,
      args.expectedVersion ?? null,
    ])
  },
}
